using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Registry.Core.Persistence;

namespace Registry.Data;

/// <summary>
/// Applies pending migrations. EF Core takes a database-wide migration lock for the duration
/// (a lock table on SQLite, a table lock on PostgreSQL), so instances starting at once apply each
/// migration exactly once and the later ones find nothing pending.
/// </summary>
public static class MigrationRunner
{
    /// <summary>Applies what is pending and logs what it applied.</summary>
    public static async Task ApplyAsync(RegistryDbContext db, ILogger logger, CancellationToken ct)
    {
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count == 0) return;
        logger.LogInformation("Applying {Count} database migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
        await db.Database.MigrateAsync(ct);
    }
}
