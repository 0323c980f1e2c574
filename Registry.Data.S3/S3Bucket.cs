using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using Registry.Core.Storage;

namespace Registry.Data.S3;

/// <summary>
/// The configured bucket and prefix, how store keys map to object keys, and how bodies are sent so
/// that every S3-compatible server stores them byte-exact.
/// </summary>
internal sealed class S3Bucket(IAmazonS3 client, IOptions<S3StorageOptions> options)
{
    // A name prefix, not a folder: S3-compatible servers that keep objects as files (s3rver) remove a
    // folder when its last object goes, which races with an upload creating the next one there.
    private const string StagingFolder = "staging-";

    private readonly S3StorageOptions _options = options.Value;

    public IAmazonS3 Client { get; } = client;

    public string Name => _options.BucketName;

    /// <summary>Where content-addressed objects live: <c>{Prefix}sha256/</c>.</summary>
    public string ContentPrefix => $"{_options.Prefix}{StorageKeys.Prefix}/";

    /// <summary>Where uploads being received live: <c>{Prefix}staging-</c>.</summary>
    public string StagingPrefix => $"{_options.Prefix}{StagingFolder}";

    public string Describe() => _options.Describe();

    /// <summary>The object key of a storage key; anything that is not a content address is refused, so no client-chosen path reaches the bucket.</summary>
    public string ObjectKey(string storageKey)
    {
        if (!StorageKeys.IsKey(storageKey))
            throw new ArgumentException($"'{storageKey}' is not a storage key of this store.", nameof(storageKey));
        return _options.Prefix + storageKey;
    }

    public string NewStagingKey() => $"{StagingPrefix}{Guid.NewGuid():N}";

    /// <summary>The key without the configured prefix: what the catalogue stores and what maintenance reports.</summary>
    public string Unprefixed(string objectKey) => objectKey[_options.Prefix.Length..];

    // aws-chunked bodies (the SDK's default for streaming signatures and trailing checksums) are stored
    // verbatim by some S3-compatibles, s3rver among them; a plain body with a precomputed signature is
    // understood by all. Unsigned payloads are only allowed over TLS, where TLS protects the bytes.
    public PutObjectRequest Put(string key, Stream body) => new()
    {
        BucketName = Name,
        Key = key,
        InputStream = body,
        AutoCloseStream = false,
        UseChunkEncoding = false,
        DisablePayloadSigning = IsTls,
    };

    public UploadPartRequest Part(string key, string uploadId, int partNumber, Stream body) => new()
    {
        BucketName = Name,
        Key = key,
        UploadId = uploadId,
        PartNumber = partNumber,
        InputStream = body,
        UseChunkEncoding = false,
        DisablePayloadSigning = IsTls,
    };

    private bool IsTls => string.IsNullOrWhiteSpace(_options.ServiceUrl)
        || _options.ServiceUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
