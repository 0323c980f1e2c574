namespace Registry.Core.Storage;

/// <summary>
/// Keeps artifact bytes, content-addressed by SHA-256. An upload is first <em>staged</em> (streamed to
/// the store's staging area while hashed in the same pass), then inspected, then <em>committed</em>
/// under its digest. Reads stream from the store, from any offset. Implementations: the file system
/// (the default) and S3-compatible object stores; maintenance (listing, sweeping) is
/// <see cref="IArtifactMaintenance"/>.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Streams <paramref name="content"/> to the staging area, computing SHA-256 on the way. Past
    /// <paramref name="maxBytes"/> it stops, discards what it wrote and returns a TooLarge error.
    /// Memory use does not depend on the size of the content.
    /// </summary>
    Task<Result<StagedArtifact>> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a staged upload under its content address and returns the storage key. Committing bytes
    /// that are already stored replaces them with the fresh copy (it was just hashed, so it is right).
    /// </summary>
    Task<string> CommitAsync(StagedArtifact staged, CancellationToken cancellationToken);

    /// <summary>
    /// Opens stored bytes for reading from <paramref name="offset"/> to the end, or returns null when
    /// nothing is stored under the key.
    /// </summary>
    Task<Stream?> OpenReadAsync(string storageKey, long offset, CancellationToken cancellationToken);

    /// <summary>The stored size in bytes, or null when nothing is stored under the key.</summary>
    Task<long?> GetSizeAsync(string storageKey, CancellationToken cancellationToken);

    /// <summary>Removes stored bytes; removing what is not there is not an error.</summary>
    Task DeleteAsync(string storageKey, CancellationToken cancellationToken);

    /// <summary>
    /// A file on this machine holding the stored bytes, for the validation sandbox. Disposing it
    /// removes any copy that was made; the stored bytes stay. Null when nothing is stored under the key.
    /// </summary>
    Task<LocalArtifactCopy?> GetLocalCopyAsync(string storageKey, CancellationToken cancellationToken);
}
