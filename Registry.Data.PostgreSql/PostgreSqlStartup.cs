using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Registry.Core;

namespace Registry.Data.PostgreSql;

/// <summary>
/// Connects once (an unreachable server or a refused login stops the start with what to fix, never
/// with the password), then applies pending migrations under EF Core's migration lock.
/// </summary>
internal sealed class PostgreSqlStartup(IDbContextFactory<PostgreSqlRegistryDbContext> factory, ILogger<PostgreSqlStartup> logger) : IStartupCheck
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var where = Describe(db.Database.GetConnectionString());
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            var reason = ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.Message;
            throw new StartupException(
                $"PostgreSQL at {where} cannot be reached or refused the login ({reason}). Check that the server runs, and Registry:Database:ConnectionString (host, port, database, username, password).", ex);
        }
        await MigrationRunner.ApplyAsync(db, logger, cancellationToken);
    }

    /// <summary>Host, port and database of a connection string: what an operator needs, without the secret.</summary>
    internal static string Describe(string? connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"{b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException)
        {
            return "(an unreadable connection string)";
        }
    }
}
