using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Registry.Core.Persistence;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// Removes what interrupted work left behind, and only once it is older than the grace period: staged
/// uploads and local copies (the store's staging), sandbox working folders, and stored artifacts that
/// no catalogue row refers to (bytes committed by an upload whose transaction never did). Nothing
/// younger is touched, so an upload or a validation in flight on any instance keeps what it owns;
/// collections on several instances at once only repeat each other's deletions.
/// </summary>
public sealed class GarbageCollector(
    IArtifactStore store,
    IArtifactMaintenance maintenance,
    IDbContextFactory<RegistryDbContext> dbFactory,
    DataPaths paths,
    IOptions<GarbageCollectionOptions> options,
    TimeProvider clock,
    ILogger<GarbageCollector> logger)
{
    /// <summary>One collection with the configured grace period; logs what it removed.</summary>
    public async Task<GarbageReport> CollectAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - TimeSpan.FromMinutes(options.Value.GraceMinutes);
        var temporary = await maintenance.DeleteStaleStagingAsync(cutoff, ct);
        var sandboxes = DeleteStaleSandboxes(cutoff);
        var (artifacts, bytes) = await DeleteUnreferencedAsync(cutoff, ct);

        var report = new GarbageReport(temporary, sandboxes, artifacts, bytes);
        if (report.IsEmpty)
            logger.LogDebug("Garbage collection removed nothing");
        else
            logger.LogInformation(
                "Garbage collection removed {Temporary} temporary file(s), {Sandboxes} sandbox folder(s) and {Artifacts} unreferenced artifact(s) ({Bytes} bytes), all older than {Cutoff:O}: {Removed}",
                temporary.Count, sandboxes.Count, artifacts.Count, bytes, cutoff, string.Join(", ", temporary.Concat(sandboxes).Concat(artifacts)));
        return report;
    }

    private List<string> DeleteStaleSandboxes(DateTimeOffset cutoff)
    {
        var removed = new List<string>();
        if (!Directory.Exists(paths.Sandboxes)) return removed;
        foreach (var folder in new DirectoryInfo(paths.Sandboxes).EnumerateDirectories())
        {
            if (folder.LastWriteTimeUtc >= cutoff.UtcDateTime) continue;
            try
            {
                folder.Delete(recursive: true);
                removed.Add($"sandbox/{folder.Name}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "Could not delete the stale sandbox folder {Folder}", folder.FullName);
            }
        }
        return removed;
    }

    private async Task<(List<string> Keys, long Bytes)> DeleteUnreferencedAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        var old = new List<StoredObject>();
        await foreach (var o in maintenance.ListAsync(ct))
            if (o.LastModified < cutoff) old.Add(o);
        var removed = new List<string>();
        long bytes = 0;
        if (old.Count == 0) return (removed, bytes);

        List<string> referenced;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            referenced = await db.Artifacts.AsNoTracking().Select(a => a.StorageKey).ToListAsync(ct);
        var known = referenced.ToHashSet(StringComparer.Ordinal);
        foreach (var o in old.Where(o => !known.Contains(o.StorageKey)))
        {
            // Decided again inside a write transaction, which registering a version waits for: an upload
            // of the same bytes commits them to the store (a fresh write time) before its row, so either
            // the object is seen fresh or referenced here, or its row is written after the delete and the
            // upload's own commit has stored the bytes again.
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (await db.Artifacts.AnyAsync(a => a.StorageKey == o.StorageKey, ct)) continue;
            if (await maintenance.StatAsync(o.StorageKey, ct) is not { } now || now.LastModified >= cutoff) continue;
            await store.DeleteAsync(o.StorageKey, ct);
            await tx.CommitAsync(ct);
            removed.Add(o.StorageKey);
            bytes += o.SizeBytes;
        }
        return (removed, bytes);
    }
}
