using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Persistence;
using Registry.Core.Catalog;
using Registry.Core.Promotions;
using Microsoft.Extensions.Options;
using Registry.Core.Validation;

namespace Registry.Core;

public static class RegistryCoreServices
{
    /// <summary>Registers the use cases and validators of the registry's domain.</summary>
    public static IServiceCollection AddRegistryCore(this IServiceCollection services)
    {
        services.AddOptions<UploadOptions>()
            .BindConfiguration(UploadOptions.Section)
            .Validate(o => o.MaxFileBytes > 0, "Registry:Upload:MaxFileBytes must be positive.")
            .Validate(o => o.MaxMetadataBytes > 0, "Registry:Upload:MaxMetadataBytes must be positive.")
            .Validate(o => o.MaxReferenceBytes > 0 && o.MaxReferenceParts >= 0, "Registry:Upload:MaxReferenceBytes must be positive and MaxReferenceParts not negative.")
            .ValidateOnStart();
        services.AddOptions<ValidationOptions>()
            .BindConfiguration(ValidationOptions.Section)
            .Validate(o => o.Concurrency is >= 1 and <= 64, "Registry:Validation:Concurrency must be between 1 and 64.")
            .Validate(o => o.TimeoutSeconds > 0 && o.MemoryLimitMiB > 0, "Registry:Validation:TimeoutSeconds and MemoryLimitMiB must be positive.")
            .Validate(o => o.LeaseSeconds > o.HeartbeatSeconds && o.HeartbeatSeconds > 0,
                "Registry:Validation:LeaseSeconds must be longer than HeartbeatSeconds, which must be positive.")
            .Validate(o => o.MaxAttempts >= 1 && o.PerformanceRuns >= 1 && o.IntraOpThreads >= 1 && o.MaxInputElements >= 1,
                "Registry:Validation:MaxAttempts, PerformanceRuns, IntraOpThreads and MaxInputElements must be at least 1.")
            .Validate(o => o.RelativeTolerance >= 0 && o.AbsoluteTolerance >= 0, "Registry:Validation tolerances must not be negative.")
            .ValidateOnStart();
        services.AddValidatorsFromAssemblyContaining<VersionMetadataValidator>(ServiceLifetime.Singleton, includeInternalTypes: false);
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<CatalogQueries>();
        services.AddScoped<CatalogCommands>();
        services.AddScoped<MetadataCommands>();
        services.AddScoped<LineageService>();
        services.AddSingleton<AccessGuard>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<RegistrySettings>();
        services.AddScoped<UserService>();
        services.AddScoped<AuditQueries>();
        services.AddIdentityCore<RegistryUser>(o =>
            {
                // Long passphrases beat composition rules; one-time passwords are 20 random characters.
                o.Password.RequiredLength = 12;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                o.Lockout.AllowedForNewUsers = true;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@";
            })
            .AddEntityFrameworkStores<RegistryDbContext>();
        services.AddOptions<PromotionOptions>()
            .BindConfiguration(PromotionOptions.Section)
            .Validate(o => o.SweepSeconds > 0, "Registry:Promotion:SweepSeconds must be positive.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PromotionOptions>, PromotionOptionsValidation>();
        services.TryAddSingleton<IChangeSignal, InProcessChangeSignal>();
        services.AddSingleton<PromotionSignal>();
        services.AddScoped<PromotionQueries>();
        services.AddScoped<PromotionService>();
        services.AddScoped<ServingQueries>();
        services.AddScoped<AliasService>();
        services.AddScoped<PolicyService>();
        services.AddOptions<Comparison.MetricOptions>().BindConfiguration(Comparison.MetricOptions.Section);
        services.AddSingleton<Comparison.MetricDirections>();
        services.AddScoped<Comparison.ComparisonQueries>();
        services.AddSingleton<ValidationSignal>();
        services.AddSingleton<ValidationQueue>();
        services.AddSingleton<WriteUnit>();
        return services;
    }
}
