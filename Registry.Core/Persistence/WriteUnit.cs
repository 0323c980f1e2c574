using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Registry.Core.Persistence;

/// <summary>
/// The one way the registry changes the catalogue under contention: work runs in a short write
/// transaction on a fresh context and is committed when it succeeds. Writes are serialised by the
/// provider (SQLite's write lock taken at <c>BEGIN IMMEDIATE</c>; on PostgreSQL an advisory lock that
/// every transaction takes first), so the work reads a state no other writer changes under it. A
/// conflict that still happens (a concurrency token or a unique index that a writer outside the lock
/// beat it to) runs the work again from the start, on what the database now holds.
/// </summary>
public sealed class WriteUnit(IDbContextFactory<RegistryDbContext> factory, IDatabaseErrors errors, ILogger<WriteUnit> logger)
{
    /// <summary>How often work is tried before a conflict is reported.</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Runs <paramref name="work"/> and saves and commits when it returns a success (and
    /// <paramref name="commitWhen"/>, if given, agrees). A conflict on every attempt returns a Conflict
    /// error with <paramref name="conflictDetail"/>; a database that stays busy returns "Registry busy".
    /// </summary>
    public async Task<Result<T>> RunAsync<T>(Func<RegistryDbContext, CancellationToken, Task<Result<T>>> work, string conflictDetail,
        CancellationToken ct, Func<T, bool>? commitWhen = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await factory.CreateDbContextAsync(ct);
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                var result = await work(db, ct);
                if (result.IsSuccess && (commitWhen?.Invoke(result.Value) ?? true))
                {
                    await db.SaveChangesAsync(ct);
                    await tx.CommitAsync(ct);
                }
                return result;
            }
            catch (Exception ex) when (errors.IsBusy(ex))
            {
                logger.LogWarning(ex, "The database stayed busy; nothing was changed");
                return new RegistryError(ErrorKind.Conflict, "Registry busy",
                    "The registry's database stayed busy with other changes for too long; nothing was changed. Retry in a moment.");
            }
            catch (DbUpdateException ex) when (ex is DbUpdateConcurrencyException || errors.IsUniqueViolation(ex))
            {
                if (attempt >= MaxAttempts)
                    return new RegistryError(ErrorKind.Conflict, "Changed concurrently", $"{conflictDetail} ({attempt} attempts in a row)");
                logger.LogDebug(ex, "Write conflict on attempt {Attempt}; running the work again", attempt);
            }
        }
    }
}
