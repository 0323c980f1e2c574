using Registry.Core;
using Registry.Data;
using Registry.Data.PostgreSql;
using Registry.Data.S3;

namespace Registry.Web;

/// <summary>
/// Chooses the database and the artifact store by configuration (the BaGet way: one project per
/// provider, each with one registration method): <c>Registry:Database:Provider</c> is <c>Sqlite</c>
/// (the default) or <c>PostgreSql</c>; <c>Registry:Storage:Provider</c> is <c>FileSystem</c> (the
/// default) or <c>S3</c>.
/// </summary>
public static class RegistryProviders
{
    public static IServiceCollection AddRegistryProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRegistryData();
        switch (Choose(configuration, $"{DatabaseOptions.Section}:Provider", DatabaseProviders.Sqlite, DatabaseProviders.All))
        {
            case DatabaseProviders.PostgreSql: services.AddRegistryPostgreSql(); break;
            default: services.AddRegistrySqlite(); break;
        }
        switch (Choose(configuration, $"{StorageOptions.Section}:Provider", StorageProviders.FileSystem, StorageProviders.All))
        {
            case StorageProviders.S3: services.AddRegistryS3Store(); break;
            default: services.AddRegistryFileSystemStore(); break;
        }
        return services;
    }

    /// <summary>The configured name, matched without regard to case; anything else stops the start, naming what is accepted.</summary>
    private static string Choose(IConfiguration configuration, string key, string fallback, IReadOnlyList<string> accepted)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        return accepted.FirstOrDefault(a => string.Equals(a, value.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new StartupException($"{key} is '{value}'; it must be one of {string.Join(", ", accepted)}.");
    }
}
