using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Registry.Core.Persistence;
using Registry.Core.Storage;

namespace Registry.Data;

public static class RegistryDataServices
{
    /// <summary>Registers the SQLite catalogue and the file-system artifact store, configured from <c>Registry:Storage</c>.</summary>
    public static IServiceCollection AddRegistryData(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "Registry:Storage:DataDirectory must name a folder.")
            .ValidateOnStart();
        services.AddSingleton(sp => new DataPaths(sp.GetRequiredService<IOptions<StorageOptions>>().Value));

        services.AddDbContextFactory<SqliteRegistryDbContext>((sp, options) => options.UseSqlite(
            sp.GetRequiredService<DataPaths>().ConnectionString,
            sqlite => sqlite
                .MigrationsAssembly(SqliteRegistryDbContext.MigrationsAssembly)
                .UseQuerySplittingBehavior(QuerySplittingBehavior.SplitQuery)));
        services.AddSingleton<IDbContextFactory<RegistryDbContext>, ProviderContextFactory<SqliteRegistryDbContext>>();
        // Identity's user store works on a scoped context of its own.
        services.AddScoped<RegistryDbContext>(sp => sp.GetRequiredService<IDbContextFactory<SqliteRegistryDbContext>>().CreateDbContext());
        services.AddSingleton<IDatabaseErrors, SqliteDatabaseErrors>();

        services.AddSingleton<FileSystemArtifactStore>();
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<FileSystemArtifactStore>());
        return services;
    }

    /// <summary>
    /// Prepares the data folder before the server takes requests: creates it, applies pending
    /// migrations, switches SQLite to WAL, and clears what an interrupted run left behind.
    /// </summary>
    public static async Task InitializeRegistryDataAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var paths = services.GetRequiredService<DataPaths>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Registry.Data");
        Directory.CreateDirectory(paths.Root);
        Directory.CreateDirectory(paths.Artifacts);
        Directory.CreateDirectory(paths.Temp);

        var factory = services.GetRequiredService<IDbContextFactory<SqliteRegistryDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            await db.Database.OpenConnectionAsync(ct);
            // WAL lets readers proceed while a write commits; the setting persists in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} database migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
                await db.Database.MigrateAsync(ct);
            }

            var sealedEvents = await Registry.Core.Auditing.AuditChain.SealUnhashedAsync(db, ct);
            if (sealedEvents > 0) logger.LogInformation("Hash-chained {Count} audit event(s) written before the chain existed", sealedEvents);

            var store = services.GetRequiredService<FileSystemArtifactStore>();
            var stale = store.DeleteStaleTempFiles();
            if (stale > 0) logger.LogWarning("Deleted {Count} incomplete upload(s) left by an earlier run", stale);
            // Working folders of sandboxes that were running when the server stopped.
            var sandboxes = Path.Combine(paths.Root, "sandbox");
            if (Directory.Exists(sandboxes))
                foreach (var folder in Directory.EnumerateDirectories(sandboxes)) Directory.Delete(folder, recursive: true);
            var keys = await db.Artifacts.AsNoTracking().Select(a => a.StorageKey).ToListAsync(ct);
            store.DeleteOrphans(keys.ToHashSet(StringComparer.Ordinal));
        }
    }

    private sealed class ProviderContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<RegistryDbContext>
        where TContext : RegistryDbContext
    {
        public RegistryDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<RegistryDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}
