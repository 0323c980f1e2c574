using System.Buffers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Registry.Core;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// Artifacts as files under <c>artifacts/sha256/&lt;2 hex&gt;/&lt;64 hex&gt;</c>. Uploads are staged
/// in <c>tmp/</c>, fsynced, and renamed into place, so a stored file is always complete.
/// </summary>
internal sealed partial class FileSystemArtifactStore(DataPaths paths, ILogger<FileSystemArtifactStore> logger) : IArtifactStore
{
    private const int ChunkSize = 1024 * 1024;

    public async Task<Result<StagedArtifact>> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Temp);
        var tempPath = Path.Combine(paths.Temp, $"upload-{Guid.NewGuid():N}.part");
        var current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var next = ArrayPool<byte>.Shared.Rent(ChunkSize);
        ValueTask<int> receive = default;
        var keep = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await using (var file = CreateTempFile(tempPath))
            {
                // Three things overlap: receiving the next chunk, writing this one, hashing this one.
                var n = await ReadChunkAsync(content, current, cancellationToken);
                while (n > 0)
                {
                    total += n;
                    if (total > maxBytes)
                        return new RegistryError(ErrorKind.TooLarge, "File too large",
                            $"The file is larger than the limit of {ByteSize.Format(maxBytes)}. Raise Registry:Upload:MaxFileBytes on the server if models this large are expected.");
                    receive = ReadChunkAsync(content, next, cancellationToken);
                    await WriteAsync(file, current.AsMemory(0, n), cancellationToken);
                    hash.AppendData(current, 0, n);
                    n = await receive;
                    receive = default;
                    (current, next) = (next, current);
                }
                Flush(file);
            }
            keep = true;
            return new FileStagedArtifact(tempPath, logger)
            {
                Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()),
                SizeBytes = total,
            };
        }
        finally
        {
            // A read still in flight writes into 'next': wait for it before the buffer goes back to the pool.
            if (!receive.IsCompleted)
            {
                try { await receive; }
                catch (Exception) { /* the failure being reported is the one that stopped the loop */ }
            }
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
            if (!keep) TryDelete(tempPath);
        }
    }

    public Task<string> CommitAsync(StagedArtifact staged, CancellationToken cancellationToken)
    {
        var file = (FileStagedArtifact)staged;
        var key = StorageKeyOf(staged.Sha256);
        var target = Path.Combine(paths.Artifacts, key);
        var directory = Path.GetDirectoryName(target)!;
        try
        {
            Directory.CreateDirectory(directory);
            // Replacing an existing copy is atomic (readers keep the old one open) and heals a stored
            // file that has rotted: the new bytes were just hashed and are known to be right.
            File.Move(file.Path, target, overwrite: true);
            Durability.FsyncDirectory(directory);
            Durability.FsyncDirectory(Path.GetDirectoryName(directory)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactStoreException("could not move the upload into the artifact store", ex);
        }
        file.Committed = true;
        return Task.FromResult(key);
    }

    public string LocalPath(string storageKey)
    {
        if (!StorageKeyPattern().IsMatch(storageKey))
            throw new ArgumentException($"'{storageKey}' is not a storage key of this store.", nameof(storageKey));
        return Path.Combine(paths.Artifacts, storageKey);
    }

    public Stream? OpenRead(string storageKey)
    {
        var path = LocalPath(storageKey);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Deletes leftovers of uploads that were in progress when the process stopped.</summary>
    public int DeleteStaleTempFiles()
    {
        if (!Directory.Exists(paths.Temp)) return 0;
        var count = 0;
        foreach (var path in Directory.EnumerateFiles(paths.Temp, "upload-*.part"))
        {
            TryDelete(path);
            count++;
        }
        return count;
    }

    /// <summary>Deletes stored files that no catalogue row refers to (a crash between rename and commit).</summary>
    public int DeleteOrphans(IReadOnlySet<string> knownKeys)
    {
        var root = Path.Combine(paths.Artifacts, "sha256");
        if (!Directory.Exists(root)) return 0;
        var count = 0;
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(paths.Artifacts, path).Replace(Path.DirectorySeparatorChar, '/');
            if (knownKeys.Contains(key)) continue;
            logger.LogWarning("Deleting {Key}: no version refers to it (left by an interrupted upload)", key);
            TryDelete(path);
            count++;
        }
        return count;
    }

    public static string StorageKeyOf(string sha256) => $"sha256/{sha256[..2]}/{sha256}";

    private static FileStream CreateTempFile(string path)
    {
        try
        {
            return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactStoreException("could not create a temporary file for the upload", ex);
        }
    }

    private static async ValueTask WriteAsync(FileStream file, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        try
        {
            await file.WriteAsync(data, ct);
        }
        catch (IOException ex)
        {
            throw new ArtifactStoreException("could not write the upload to disk", ex);
        }
    }

    private static void Flush(FileStream file)
    {
        try
        {
            file.Flush(flushToDisk: true);
        }
        catch (IOException ex)
        {
            throw new ArtifactStoreException("could not flush the upload to disk", ex);
        }
    }

    private static async ValueTask<int> ReadChunkAsync(Stream content, byte[] buffer, CancellationToken ct) =>
        await content.ReadAtLeastAsync(buffer.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, ct);

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Could not delete {Path}", path);
        }
    }

    [GeneratedRegex("^sha256/[0-9a-f]{2}/[0-9a-f]{64}$")]
    private static partial Regex StorageKeyPattern();

    private sealed class FileStagedArtifact(string path, ILogger logger) : StagedArtifact
    {
        public string Path { get; } = path;

        public bool Committed { get; set; }

        public override Stream OpenRead() =>
            new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

        public override ValueTask DisposeAsync()
        {
            if (Committed) return ValueTask.CompletedTask;
            try
            {
                File.Delete(Path);
            }
            catch (IOException ex)
            {
                // Swept at the next start; the refusal the caller is reporting matters more.
                logger.LogWarning(ex, "Could not delete the staged upload {Path}", Path);
            }
            return ValueTask.CompletedTask;
        }
    }
}
