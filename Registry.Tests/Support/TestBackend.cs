using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Registry.Data.PostgreSql;

namespace Registry.Tests.Support;

/// <summary>
/// Which back-end the suite runs on, chosen by <c>REGISTRY_TEST_BACKEND</c>: <c>Sqlite</c> (SQLite and
/// the file system, the default), <c>PostgreSql</c> (PostgreSQL and the file system, for looking at one
/// provider alone) or <c>PostgreSqlS3</c> (PostgreSQL and an S3-compatible server, which
/// ./test.sh starts and names in <c>REGISTRY_TEST_PG</c> and <c>REGISTRY_TEST_S3_URL</c>). Every
/// registry a test makes gets a database and a bucket prefix of its own, named after its data folder,
/// so that a registry restarted on the same folder finds its data again.
/// </summary>
public static class TestBackend
{
    public const string Sqlite = "Sqlite";
    public const string PostgreSqlS3 = "PostgreSqlS3";

    /// <summary>The trait that keeps a test to one back-end: <c>[Trait(TestBackend.Trait, TestBackend.SqliteOnly)]</c>.</summary>
    public const string Trait = "Backend";

    /// <summary>A test of what only the embedded default has (the SQLite file, the artifacts folder).</summary>
    public const string SqliteOnly = "SqliteOnly";

    /// <summary>A test that needs the servers (several instances on one database, the S3 store itself).</summary>
    public const string ServersOnly = "ServersOnly";

    public static string Name { get; } = Environment.GetEnvironmentVariable("REGISTRY_TEST_BACKEND") is { Length: > 0 } b ? b : Sqlite;

    /// <summary>True when the catalogue is in PostgreSQL.</summary>
    public static bool UsesPostgreSql => Name is PostgreSqlS3 or "PostgreSql";

    /// <summary>True when artifacts are in the S3-compatible server.</summary>
    public static bool UsesServers => Name == PostgreSqlS3;

    /// <summary>The admin connection string of the test PostgreSQL server; fails with what to do when it is not running.</summary>
    public static string PostgreSqlAdmin => Environment.GetEnvironmentVariable("REGISTRY_TEST_PG") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("REGISTRY_TEST_PG is not set: run the tests through ./test.sh, which starts PostgreSQL 15 on loopback.");

    public static string S3Url => Environment.GetEnvironmentVariable("REGISTRY_TEST_S3_URL") is { Length: > 0 } url ? url
        : throw new InvalidOperationException("REGISTRY_TEST_S3_URL is not set: run the tests through ./test.sh, which starts s3rver on loopback.");

    public static string S3Bucket => Environment.GetEnvironmentVariable("REGISTRY_TEST_S3_BUCKET") is { Length: > 0 } b ? b : "registry-tests";

    /// <summary>The settings that put a registry on this back-end, for the data folder it uses.</summary>
    public static IReadOnlyDictionary<string, string> SettingsFor(string dataDirectory) =>
        UsesServers ? ServerSettings(dataDirectory)
        : UsesPostgreSql ? ServerSettings(dataDirectory).Where(s => s.Key.StartsWith("Registry:Database:", StringComparison.Ordinal)).ToDictionary()
        : new Dictionary<string, string>();

    /// <summary>PostgreSQL and S3 settings for a data folder, whatever back-end the suite runs on.</summary>
    public static IReadOnlyDictionary<string, string> ServerSettings(string dataDirectory)
    {
        var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(dataDirectory));
        return new Dictionary<string, string>
        {
            ["Registry:Database:Provider"] = "PostgreSql",
            ["Registry:Database:ConnectionString"] = DatabaseFor(id),
            ["Registry:Storage:Provider"] = "S3",
            ["Registry:Storage:S3:ServiceUrl"] = S3Url,
            ["Registry:Storage:S3:BucketName"] = S3Bucket,
            ["Registry:Storage:S3:Prefix"] = $"{id}/",
            ["Registry:Storage:S3:Region"] = "us-east-1",
            ["Registry:Storage:S3:AccessKey"] = "S3RVER",
            ["Registry:Storage:S3:SecretKey"] = "S3RVER",
            ["Registry:Storage:S3:ForcePathStyle"] = "true",
        };
    }

    private static readonly ConcurrentDictionary<string, string> Databases = new();
    private static readonly SemaphoreSlim Creating = new(1, 1);
    private static string? _template;

    /// <summary>
    /// A database of its own for the registry with this id, copied from a template that was migrated
    /// once per test run (a copy takes milliseconds; migrating each would take a second).
    /// </summary>
    private static string DatabaseFor(string id) =>
        // Off xUnit's synchronisation context: test constructors block here, and continuations posted
        // to a context whose threads are all blocked would never run.
        Databases.GetOrAdd(id, _ => Task.Run(() => CreateDatabaseAsync(id)).GetAwaiter().GetResult());

    private static async Task<string> CreateDatabaseAsync(string id)
    {
        var name = $"r_{id}".ToLowerInvariant();
        await Creating.WaitAsync();
        try
        {
            _template ??= await CreateTemplateAsync();
            await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE \"{_template}\"");
        }
        finally
        {
            Creating.Release();
        }
        return ConnectionString(name, pooling: true);
    }

    private static async Task<string> CreateTemplateAsync()
    {
        var name = $"registry_template_{Environment.ProcessId}";
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\"");
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        var options = new DbContextOptionsBuilder<PostgreSqlRegistryDbContext>()
            .UseNpgsql(ConnectionString(name, pooling: false), o => o.MigrationsAssembly(PostgreSqlRegistryDbContext.MigrationsAssembly))
            .Options;
        await using (var db = new PostgreSqlRegistryDbContext(options)) await db.Database.MigrateAsync();
        return name;
    }

    /// <summary>Drops the database of a registry whose data folder is being deleted.</summary>
    public static async Task DropAsync(string dataDirectory)
    {
        var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(dataDirectory));
        if (!Databases.TryRemove(id, out var connectionString)) return;
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"r_{id.ToLowerInvariant()}\" WITH (FORCE)");
    }

    private static string ConnectionString(string database, bool pooling) =>
        new NpgsqlConnectionStringBuilder(PostgreSqlAdmin) { Database = database, Pooling = pooling }.ConnectionString;

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgreSqlAdmin) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
