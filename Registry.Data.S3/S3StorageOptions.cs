namespace Registry.Data.S3;

/// <summary>
/// The S3-compatible bucket that holds the artifacts when <c>Registry:Storage:Provider</c> is <c>S3</c>
/// (section <c>Registry:Storage:S3</c>). Works with AWS S3 and with S3-compatible servers (MinIO,
/// Ceph, s3rver) through <see cref="ServiceUrl"/> and <see cref="ForcePathStyle"/>.
/// </summary>
public sealed class S3StorageOptions
{
    /// <summary>The configuration section, <c>Registry:Storage:S3</c>.</summary>
    public const string Section = "Registry:Storage:S3";

    /// <summary>
    /// The endpoint of an S3-compatible server, for example <c>http://minio:9000</c>. Empty (the
    /// default) means AWS S3 in <see cref="Region"/>. Credentials never go in this URL.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The region of the bucket, also used to sign requests to an S3-compatible server. Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket that holds the artifacts (required). It must exist: the server does not create it.</summary>
    public string BucketName { get; set; } = "";

    /// <summary>
    /// A key prefix for everything this registry writes, ending with <c>/</c> (for example
    /// <c>registry/</c>), so that the bucket can be shared. Keys become <c>{Prefix}sha256/ab/abcd…</c>
    /// and <c>{Prefix}staging/…</c>. Default empty.
    /// </summary>
    public string Prefix { get; set; } = "";

    /// <summary>
    /// The access key id. When this and <see cref="SecretKey"/> are empty (the default), the AWS SDK's
    /// standard chain is used: <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, a profile, or an
    /// instance role.
    /// </summary>
    public string? AccessKey { get; set; }

    /// <summary>The secret access key that goes with <see cref="AccessKey"/>. It is never logged or shown.</summary>
    public string? SecretKey { get; set; }

    /// <summary>
    /// Addresses the bucket as <c>{ServiceUrl}/{bucket}/key</c> instead of <c>{bucket}.{host}</c>: what
    /// most S3-compatible servers (MinIO, s3rver) need. Default false (AWS S3).
    /// </summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>True when both keys are set; false when both are empty (the SDK's chain is used).</summary>
    internal bool HasExplicitCredentials => !string.IsNullOrEmpty(AccessKey) && !string.IsNullOrEmpty(SecretKey);

    /// <summary>Where the store is, for messages: scheme, host and port of the endpoint (or the AWS region), and the bucket; never a secret.</summary>
    internal string Describe()
    {
        var where = Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}" : $"AWS S3 ({Region})";
        return $"bucket '{BucketName}' at {where}";
    }
}
