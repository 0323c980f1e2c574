using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Registry.Core;
using Registry.Core.Storage;

namespace Registry.Data.S3;

/// <summary>Registration of the S3-compatible artifact store (<c>Registry:Storage:Provider=S3</c>).</summary>
public static class RegistryS3Services
{
    private const string Settings = S3StorageOptions.Section;

    /// <summary>
    /// Artifacts in the bucket configured under <c>Registry:Storage:S3</c>, staged through the data
    /// folder's <c>tmp/</c> (so <see cref="RegistryDataServices.AddRegistryData"/> comes first), with a
    /// start-up check that the bucket answers.
    /// </summary>
    public static IServiceCollection AddRegistryS3Store(this IServiceCollection services)
    {
        services.AddOptions<S3StorageOptions>()
            .BindConfiguration(S3StorageOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.BucketName),
                $"{Settings}:BucketName is required with Registry:Storage:Provider=S3 (the bucket that holds the artifacts).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Region),
                $"{Settings}:Region must name a region (for example us-east-1).")
            .Validate(o => string.IsNullOrWhiteSpace(o.ServiceUrl) || IsEndpoint(o.ServiceUrl),
                $"{Settings}:ServiceUrl must be an http:// or https:// URL without credentials in it (for example http://minio:9000), or empty for AWS S3.")
            .Validate(o => string.IsNullOrEmpty(o.AccessKey) == string.IsNullOrEmpty(o.SecretKey),
                $"{Settings}:AccessKey and {Settings}:SecretKey go together: set both, or neither to use the AWS SDK's standard credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).")
            .Validate(o => IsPrefix(o.Prefix),
                $"{Settings}:Prefix must be empty or end with '/' (for example registry/), and may not start with '/' or contain '..' or '//'.")
            .ValidateOnStart();
        services.AddSingleton<IAmazonS3>(sp => CreateClient(sp.GetRequiredService<IOptions<S3StorageOptions>>().Value));
        services.AddSingleton<S3Bucket>();
        services.AddSingleton<S3ArtifactStore>();
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<S3ArtifactStore>());
        services.AddSingleton<IArtifactMaintenance>(sp => sp.GetRequiredService<S3ArtifactStore>());
        services.AddSingleton<IStartupCheck, S3StartupCheck>();
        return services;
    }

    private static S3CompatibleClient CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 demands them: the default trailing checksums make aws-chunked
            // bodies, which some S3-compatibles (s3rver) store verbatim instead of the bytes.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        else
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        return options.HasExplicitCredentials
            ? new S3CompatibleClient(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new S3CompatibleClient(config);
    }

    private static bool IsEndpoint(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo);

    private static bool IsPrefix(string? prefix) =>
        string.IsNullOrEmpty(prefix)
        || (prefix.EndsWith('/') && !prefix.StartsWith('/') && !prefix.Contains("..", StringComparison.Ordinal) && !prefix.Contains("//", StringComparison.Ordinal));
}
