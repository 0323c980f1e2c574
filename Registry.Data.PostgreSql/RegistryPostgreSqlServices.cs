using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Registry.Core;
using Registry.Core.Persistence;

namespace Registry.Data.PostgreSql;

public static class RegistryPostgreSqlServices
{
    /// <summary>
    /// The catalogue in PostgreSQL (<c>Registry:Database:Provider=PostgreSql</c>), at
    /// <c>Registry:Database:ConnectionString</c>. Writes are serialised by an advisory lock.
    /// </summary>
    public static IServiceCollection AddRegistryPostgreSql(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Registry:Database:ConnectionString is required with Registry:Database:Provider=PostgreSql (for example Host=db;Database=registry;Username=registry;Password=…).")
            .Validate(o => IsReadable(o.ConnectionString),
                "Registry:Database:ConnectionString is not a PostgreSQL connection string (keys such as Host, Port, Database, Username, Password separated by ';').")
            .ValidateOnStart();
        services.AddSingleton<SerialisedWrites>();
        services.AddDbContextFactory<PostgreSqlRegistryDbContext>((sp, options) => options
            .UseNpgsql(WithDefaults(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString!), npgsql => npgsql
                .MigrationsAssembly(PostgreSqlRegistryDbContext.MigrationsAssembly)
                .UseQuerySplittingBehavior(QuerySplittingBehavior.SplitQuery))
            .AddInterceptors(sp.GetRequiredService<SerialisedWrites>()));
        services.AddRegistryDbContext<PostgreSqlRegistryDbContext>();
        services.AddSingleton<IDatabaseErrors, PostgreSqlDatabaseErrors>();
        services.AddSingleton<IStartupCheck, PostgreSqlStartup>();
        // Several instances share the database: workers and pages hear of each other's changes.
        services.AddSingleton<PostgreSqlChangeSignal>();
        services.AddSingleton<IChangeSignal>(sp => sp.GetRequiredService<PostgreSqlChangeSignal>());
        services.AddHostedService(sp => sp.GetRequiredService<PostgreSqlChangeSignal>());
        return services;
    }

    /// <summary>
    /// The configured connection string with the registry's defaults for what it leaves unset:
    /// statements the registry runs often are prepared on each connection (<c>Max Auto Prepare=32</c>),
    /// which saves the search its planning on every request. Set <c>Max Auto Prepare=0</c> behind a
    /// pooler in transaction mode (PgBouncer), where prepared statements do not survive.
    /// </summary>
    internal static string WithDefaults(string connectionString)
    {
        // Npgsql's builder answers ContainsKey for every keyword it knows, set or not: ask a plain one.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            return connectionString;
        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 32 }.ConnectionString;
    }

    private static bool IsReadable(string? connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
