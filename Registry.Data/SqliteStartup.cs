using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Registry.Core;

namespace Registry.Data;

/// <summary>Switches the SQLite file to WAL and applies pending migrations (EF Core holds its migration lock meanwhile).</summary>
internal sealed class SqliteStartup(IDbContextFactory<SqliteRegistryDbContext> factory, ILogger<SqliteStartup> logger) : IStartupCheck
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new StartupException($"The SQLite database cannot be opened ({ex.Message}). Check Registry:Database:ConnectionString and that the data folder is writable.", ex);
        }
        // WAL lets readers proceed while a write commits; the setting persists in the file.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        await MigrationRunner.ApplyAsync(db, logger, cancellationToken);
    }
}
