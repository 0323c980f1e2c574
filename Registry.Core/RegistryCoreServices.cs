using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Registry.Core.Catalog;

namespace Registry.Core;

public static class RegistryCoreServices
{
    /// <summary>Registers the use cases and validators of the registry's domain.</summary>
    public static IServiceCollection AddRegistryCore(this IServiceCollection services)
    {
        services.AddValidatorsFromAssemblyContaining<VersionMetadataValidator>(ServiceLifetime.Singleton, includeInternalTypes: false);
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<CatalogQueries>();
        services.AddScoped<CatalogCommands>();
        return services;
    }
}
