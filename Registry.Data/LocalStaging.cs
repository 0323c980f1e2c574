using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Registry.Core;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// Receives an upload into a temporary file under the data folder's <c>tmp/</c>, hashing it in the
/// same pass, so that it can be inspected before anything is stored. Every artifact store stages
/// through it; a remote store also passes each chunk on as it arrives (<c>forward</c>).
/// </summary>
public sealed class LocalStaging(DataPaths paths, ILogger<LocalStaging> logger)
{
    /// <summary>The size of one read from the request, and so of one chunk handed to <c>forward</c>.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>The prefix of staged upload files in <see cref="DataPaths.Temp"/>.</summary>
    public const string UploadPrefix = "upload-";

    /// <summary>
    /// Streams <paramref name="content"/> to a new temporary file. Each chunk is written, hashed and
    /// given to <paramref name="forward"/> (when set) while the next one is received. Past
    /// <paramref name="maxBytes"/> the file is deleted and a TooLarge error returned.
    /// </summary>
    public async Task<Result<LocalStagedFile>> StageAsync(Stream content, long maxBytes,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? forward, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Temp);
        var tempPath = Path.Combine(paths.Temp, $"{UploadPrefix}{Guid.NewGuid():N}.part");
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
                    if (forward is not null) await forward(current.AsMemory(0, n), cancellationToken);
                    n = await receive;
                    receive = default;
                    (current, next) = (next, current);
                }
                Flush(file);
            }
            keep = true;
            return new LocalStagedFile(tempPath, logger)
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
            if (!keep) TryDelete(tempPath, logger);
        }
    }

    /// <summary>
    /// Deletes files in <see cref="DataPaths.Temp"/> last written before <paramref name="olderThan"/>:
    /// uploads and copies whose process died. A file still being written is newer than that.
    /// </summary>
    public IReadOnlyList<string> DeleteStale(DateTimeOffset olderThan)
    {
        if (!Directory.Exists(paths.Temp)) return [];
        var removed = new List<string>();
        foreach (var entry in new DirectoryInfo(paths.Temp).EnumerateFileSystemInfos())
        {
            if (entry.LastWriteTimeUtc >= olderThan.UtcDateTime) continue;
            try
            {
                if (entry is DirectoryInfo folder) folder.Delete(recursive: true);
                else entry.Delete();
                removed.Add($"tmp/{entry.Name}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "Could not delete the stale temporary {Path}", entry.FullName);
            }
        }
        return removed;
    }

    /// <summary>A new empty file in <see cref="DataPaths.Temp"/> for a local copy of stored bytes.</summary>
    public string NewCopyPath()
    {
        Directory.CreateDirectory(paths.Temp);
        return Path.Combine(paths.Temp, $"copy-{Guid.NewGuid():N}.part");
    }

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

    internal static void TryDelete(string path, ILogger logger)
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
}
