using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Registry.Data.S3;

namespace Registry.Bench;

/// <summary>
/// The upload benchmark's S3 baseline: <c>s3put &lt;file&gt; &lt;url&gt; &lt;bucket&gt; &lt;key&gt;</c> puts a file into a
/// bucket the way the S3 store sends an upload, and nothing more — no hashing, staging file,
/// catalogue or copy into place — and prints the seconds it took. The client is the store's own
/// (registered by <see cref="RegistryS3Services.AddRegistryS3Store"/>, so the same checksum settings and
/// copy-source handling); the parts are as the store makes them: 8 MiB, at most two on the wire,
/// plain (not aws-chunked) signed bodies. It then times, apart, the one step of the store's commit that
/// moves bytes: the copy of the object to another key inside the bucket, which an S3-compatible server
/// such as s3rver carries out by reading and writing every byte again. Prints two numbers: the put's
/// seconds and the copy's. Both objects are deleted afterwards, untimed. Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, s3rver's
/// S3RVER/S3RVER when unset.
/// </summary>
internal static class S3Put
{
    public const string Command = "s3put";

    // The store's S3StagingUpload.PartSize and MaxPartsInFlight (internal there).
    private const int PartSize = 8 * 1024 * 1024;
    private const int MaxPartsInFlight = 2;

    public static async Task<int> RunAsync(string path, string url, string bucket, string key)
    {
        var settings = new Dictionary<string, string?>
        {
            [$"{S3StorageOptions.Section}:ServiceUrl"] = url,
            [$"{S3StorageOptions.Section}:BucketName"] = bucket,
            [$"{S3StorageOptions.Section}:Region"] = "us-east-1",
            [$"{S3StorageOptions.Section}:AccessKey"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "S3RVER",
            [$"{S3StorageOptions.Section}:SecretKey"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "S3RVER",
            [$"{S3StorageOptions.Section}:ForcePathStyle"] = "true",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddRegistryS3Store().BuildServiceProvider();
        var client = services.GetRequiredService<IAmazonS3>();

        var clock = Stopwatch.StartNew();
        var uploadId = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = key })).UploadId;
        var completed = false;
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var inFlight = new Queue<Task<PartETag>>();
            var parts = new List<PartETag>();
            for (var partNumber = 1; ; partNumber++)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(PartSize);
                var length = await file.ReadAtLeastAsync(buffer, PartSize, throwOnEndOfStream: false);
                if (length == 0 && partNumber > 1) { ArrayPool<byte>.Shared.Return(buffer); break; }
                if (inFlight.Count >= MaxPartsInFlight) parts.Add(await inFlight.Dequeue());
                inFlight.Enqueue(UploadPartAsync(client, bucket, key, uploadId, partNumber, buffer, length));
                if (length < PartSize) break;
            }
            while (inFlight.Count > 0) parts.Add(await inFlight.Dequeue());
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId, PartETags = parts });
            completed = true;
            var put = clock.Elapsed;

            clock.Restart();
            await client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = key, DestinationBucket = bucket, DestinationKey = key + ".copy" });
            var copy = clock.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{put.TotalSeconds:0.000} {copy.TotalSeconds:0.000}"));
            return 0;
        }
        finally
        {
            // Untimed: leave nothing in the bucket (s3rver has no abort, so a failed put may leave parts).
            if (!completed)
            {
                try { await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }); }
                catch (AmazonS3Exception) { /* the failure being reported is the put's */ }
            }
            await client.DeleteObjectAsync(bucket, key);
            await client.DeleteObjectAsync(bucket, key + ".copy");
        }
    }

    private static async Task<PartETag> UploadPartAsync(IAmazonS3 client, string bucket, string key, string uploadId, int partNumber, byte[] buffer, int length)
    {
        try
        {
            using var body = new MemoryStream(buffer, 0, length, writable: false);
            var response = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = body,
                UseChunkEncoding = false,
                DisablePayloadSigning = false, // as the store over plain http: the signature covers the bytes
            });
            return new PartETag(partNumber, response.ETag);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
