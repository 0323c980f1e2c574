using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Registry.Core;
using Registry.Core.Auditing;
using Registry.Core.Persistence;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// Registration of what every configuration shares (the data folder, local staging), and of the
/// embedded defaults: the SQLite catalogue and the file-system artifact store. The PostgreSQL and S3
/// providers live in projects of their own and register the same seams.
/// </summary>
public static class RegistryDataServices
{
    /// <summary>The data folder (<c>Registry:Storage:DataDirectory</c>) and the staging every artifact store uses.</summary>
    public static IServiceCollection AddRegistryData(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "Registry:Storage:DataDirectory must name a folder.")
            .ValidateOnStart();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton(sp => new DataPaths(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<LocalStaging>();
        services.AddOptions<GarbageCollectionOptions>().BindConfiguration(GarbageCollectionOptions.Section)
            .Validate(o => o.GraceMinutes >= 5, "Registry:GarbageCollection:GraceMinutes must be at least 5: anything younger may belong to an upload or a validation still running.")
            .Validate(o => o.IntervalMinutes > 0, "Registry:GarbageCollection:IntervalMinutes must be positive.")
            .ValidateOnStart();
        services.AddSingleton<GarbageCollector>();
        return services;
    }

    /// <summary>The catalogue in SQLite: <c>Registry:Database:ConnectionString</c>, by default <c>registry.db</c> in the data folder.</summary>
    public static IServiceCollection AddRegistrySqlite(this IServiceCollection services)
    {
        services.AddDbContextFactory<SqliteRegistryDbContext>((sp, options) => options.UseSqlite(
            SqliteConnectionString(sp),
            sqlite => sqlite
                .MigrationsAssembly(SqliteRegistryDbContext.MigrationsAssembly)
                .UseQuerySplittingBehavior(QuerySplittingBehavior.SplitQuery)));
        services.AddRegistryDbContext<SqliteRegistryDbContext>();
        services.AddSingleton<IDatabaseErrors, SqliteDatabaseErrors>();
        services.AddSingleton<IStartupCheck, SqliteStartup>();
        return services;
    }

    /// <summary>
    /// Exposes a provider's context factory as the provider-neutral one, and a scoped context for
    /// Identity's user store. Every provider calls this once.
    /// </summary>
    public static IServiceCollection AddRegistryDbContext<TContext>(this IServiceCollection services) where TContext : RegistryDbContext
    {
        services.AddSingleton<IDbContextFactory<RegistryDbContext>, ProviderContextFactory<TContext>>();
        services.AddScoped<RegistryDbContext>(sp => sp.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext());
        return services;
    }

    /// <summary>Artifacts as files under the data folder's <c>artifacts/</c>.</summary>
    public static IServiceCollection AddRegistryFileSystemStore(this IServiceCollection services)
    {
        services.AddSingleton<FileSystemArtifactStore>();
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<FileSystemArtifactStore>());
        services.AddSingleton<IArtifactMaintenance>(sp => sp.GetRequiredService<FileSystemArtifactStore>());
        return services;
    }

    /// <summary>
    /// Prepares everything before the server (or a command) uses it: the data folder, each provider's
    /// start-up check (reachable, migrated under a lock, bucket present), and the audit chain. It never
    /// deletes anything: what interrupted work left behind is the garbage collector's, after a grace
    /// period, because another process may still own it.
    /// </summary>
    public static async Task InitializeRegistryDataAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var paths = services.GetRequiredService<DataPaths>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Registry.Data");
        try
        {
            // Only its owner may look inside: the database, the keys and the models are in it. An
            // existing folder keeps the mode its operator gave it.
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(paths.Root);
            else Directory.CreateDirectory(paths.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(paths.Temp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"The data folder {paths.Root} cannot be created or written ({ex.Message}). Set Registry:Storage:DataDirectory to a folder this user may write.", ex);
        }

        foreach (var check in services.GetServices<IStartupCheck>()) await check.RunAsync(ct);

        var factory = services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using var db = await factory.CreateDbContextAsync(ct);
        var sealedEvents = await AuditChain.SealUnhashedAsync(db, ct);
        if (sealedEvents > 0) logger.LogInformation("Hash-chained {Count} audit event(s) written before the chain existed", sealedEvents);
    }

    private static string SqliteConnectionString(IServiceProvider sp)
    {
        var configured = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        return string.IsNullOrWhiteSpace(configured) ? $"Data Source={sp.GetRequiredService<DataPaths>().Database};Pooling=True" : configured;
    }
}
