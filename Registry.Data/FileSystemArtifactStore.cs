using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Registry.Core;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// Artifacts as files under <c>artifacts/sha256/&lt;2 hex&gt;/&lt;64 hex&gt;</c>. Uploads are staged
/// in <c>tmp/</c>, fsynced, and renamed into place, so a stored file is always complete.
/// </summary>
internal sealed class FileSystemArtifactStore(DataPaths paths, LocalStaging staging) : IArtifactStore, IArtifactMaintenance
{
    public async Task<Result<StagedArtifact>> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var staged = await staging.StageAsync(content, maxBytes, forward: null, cancellationToken);
        return staged.IsSuccess ? staged.Value : staged.Error!;
    }

    public Task<string> CommitAsync(StagedArtifact staged, CancellationToken cancellationToken)
    {
        var file = (LocalStagedFile)staged;
        var key = StorageKeys.Of(staged.Sha256);
        var target = Path.Combine(paths.Artifacts, key);
        var directory = Path.GetDirectoryName(target)!;
        try
        {
            Directory.CreateDirectory(directory);
            // Replacing an existing copy is atomic (readers keep the old one open) and heals a stored
            // file that has rotted: the new bytes were just hashed and are known to be right. The
            // garbage collector's grace period counts from the commit, not from when the upload began.
            File.SetLastWriteTimeUtc(file.Path, DateTime.UtcNow);
            File.Move(file.Path, target, overwrite: true);
            Durability.FsyncDirectory(directory);
            Durability.FsyncDirectory(Path.GetDirectoryName(directory)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactStoreException("could not move the upload into the artifact store", ex);
        }
        return Task.FromResult(key);
    }

    public Task<Stream?> OpenReadAsync(string storageKey, long offset, CancellationToken cancellationToken)
    {
        var path = PathOf(storageKey);
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            if (offset > 0) stream.Seek(offset, SeekOrigin.Begin);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<long?> GetSizeAsync(string storageKey, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(storageKey));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    public Task DeleteAsync(string storageKey, CancellationToken cancellationToken)
    {
        var path = PathOf(storageKey);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactStoreException("could not delete a stored artifact", ex);
        }
        return Task.CompletedTask;
    }

    /// <summary>The stored file itself: nothing is copied, so nothing is removed afterwards.</summary>
    public Task<LocalArtifactCopy?> GetLocalCopyAsync(string storageKey, CancellationToken cancellationToken)
    {
        var path = PathOf(storageKey);
        return Task.FromResult(File.Exists(path) ? new LocalArtifactCopy(path) : null);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var root = Path.Combine(paths.Artifacts, StorageKeys.Prefix);
        if (!Directory.Exists(root)) yield break;
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(paths.Artifacts, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (!StorageKeys.IsKey(key)) continue;
            yield return new StoredObject(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
        }
        await Task.CompletedTask;
    }

    public Task<StoredObject?> StatAsync(string storageKey, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(storageKey));
        return Task.FromResult(file.Exists ? new StoredObject(storageKey, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)) : null);
    }

    public Task<IReadOnlyList<string>> DeleteStaleStagingAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        Task.FromResult(staging.DeleteStale(olderThan));

    private string PathOf(string storageKey)
    {
        if (!StorageKeys.IsKey(storageKey))
            throw new ArgumentException($"'{storageKey}' is not a storage key of this store.", nameof(storageKey));
        return Path.Combine(paths.Artifacts, storageKey);
    }
}
