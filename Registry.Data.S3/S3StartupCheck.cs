using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Registry.Core;

namespace Registry.Data.S3;

/// <summary>
/// Asks for the bucket once before the server takes requests (HeadBucket). A missing bucket, refused
/// credentials or an endpoint that does not answer stops the start with the setting to fix; the
/// message names the endpoint and the bucket, never a key.
/// </summary>
internal sealed class S3StartupCheck(S3Bucket bucket) : IStartupCheck
{
    private const string Settings = S3StorageOptions.Section;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var where = bucket.Describe();
        try
        {
            await bucket.Client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket.Name }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound || ex.ErrorCode == "NoSuchBucket")
        {
            throw new StartupException(
                $"The object store has no {where}. Create the bucket, or set {Settings}:BucketName to an existing one.", ex);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw new StartupException(
                $"The object store refused access to {where} ({Code(ex)}). Check {Settings}:AccessKey and {Settings}:SecretKey (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when they are empty), and that these credentials may use the bucket.", ex);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.MovedPermanently or HttpStatusCode.BadRequest)
        {
            throw new StartupException(
                $"The object store did not accept requests for {where} ({Code(ex)}). Check {Settings}:Region (the bucket's region), {Settings}:ServiceUrl and {Settings}:ForcePathStyle.", ex);
        }
        catch (Exception ex) when (S3Calls.IsStoreFailure(ex) || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new StartupException(
                $"The object store for {where} cannot be reached ({Code(ex)}). Check that it runs, and {Settings}:ServiceUrl (empty for AWS S3) and {Settings}:Region.", ex);
        }
    }

    private static string Code(Exception ex) => S3Calls.CodeOf(ex) ?? ex.GetType().Name;
}
