namespace Registry.Core.Storage;

/// <summary>
/// Keeps artifact bytes, content-addressed by SHA-256. An upload is first <em>staged</em> (streamed to
/// a temporary file while hashed in the same pass), then inspected, then <em>committed</em>
/// (moved into place atomically, or dropped when those bytes are already stored).
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Streams <paramref name="content"/> to a temporary file, computing SHA-256 on the way. Past
    /// <paramref name="maxBytes"/> it stops, deletes what it wrote and returns a TooLarge error.
    /// Memory use does not depend on the size of the content.
    /// </summary>
    Task<Result<StagedArtifact>> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Moves a staged file to its content address and returns the storage key.</summary>
    Task<string> CommitAsync(StagedArtifact staged, CancellationToken cancellationToken);

    /// <summary>Opens stored bytes for reading, or returns null when nothing is stored under the key.</summary>
    Stream? OpenRead(string storageKey);

    /// <summary>A path on this machine where the stored bytes can be read (for the validation sandbox).</summary>
    string LocalPath(string storageKey);
}

/// <summary>A staged reference tensor: which kind it is and its bytes.</summary>
public sealed record StagedReference(Catalog.ReferenceKind Kind, StagedArtifact File);

/// <summary>
/// An upload that has been received and hashed but is not yet part of the catalogue. Disposing it
/// deletes the temporary file unless it was committed.
/// </summary>
public abstract class StagedArtifact : IAsyncDisposable
{
    /// <summary>Lower-case hex SHA-256 of the bytes.</summary>
    public required string Sha256 { get; init; }

    public required long SizeBytes { get; init; }

    /// <summary>Opens the staged bytes for inspection (a seekable stream).</summary>
    public abstract Stream OpenRead();

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// The store itself failed (disk full, permissions): a server problem, never the client's. The
/// message is safe to show; the inner exception, with paths, is for the log.
/// </summary>
public sealed class ArtifactStoreException(string message, Exception innerException) : Exception(message, innerException);
