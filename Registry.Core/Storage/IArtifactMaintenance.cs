namespace Registry.Core.Storage;

/// <summary>
/// What the garbage collector needs of an artifact store, kept apart from the request path: every
/// stored object with its age, and the staging leftovers of uploads that never finished.
/// </summary>
public interface IArtifactMaintenance
{
    /// <summary>Every object under the store's content addresses, in no particular order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(CancellationToken cancellationToken);

    /// <summary>One object's size and last write, or null when nothing is stored under the key.</summary>
    Task<StoredObject?> StatAsync(string storageKey, CancellationToken cancellationToken);

    /// <summary>
    /// Removes staging leftovers (partial uploads, local copies made for sandboxes) last written before
    /// <paramref name="olderThan"/>, and returns what was removed. Anything written since is left alone:
    /// an upload or a validation on some instance may still own it.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteStaleStagingAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);
}
