using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Registry.Core.Storage;

namespace Registry.Data.S3;

/// <summary>
/// Turns the SDK's failures into the store's: a missing object is an answer (null), anything else an
/// <see cref="ArtifactStoreException"/> whose message names the operation and the S3 error code only
/// (SDK messages may carry endpoints and request details that do not belong in a response).
/// </summary>
internal static class S3Calls
{
    public static async Task<T> RunAsync<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure(what, ex);
        }
    }

    public static Task RunAsync(string what, Func<Task> call) => RunAsync(what, async () =>
    {
        await call();
        return true;
    });

    /// <summary>Runs a read that answers null when the object is not there.</summary>
    public static async Task<T?> RunOrNullAsync<T>(string what, Func<Task<T>> call) where T : class
    {
        try
        {
            return await call();
        }
        catch (AmazonS3Exception ex) when (IsNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            throw Failure(what, ex);
        }
    }

    public static bool IsNotFound(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.NotFound || ex.ErrorCode is "NoSuchKey" or "NotFound";

    /// <summary>The server does not implement the call (some S3-compatibles lack multipart listing or aborting).</summary>
    public static bool IsUnsupported(AmazonS3Exception ex) =>
        ex.ErrorCode is "NotImplemented" or "MethodNotAllowed"
        || ex.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.MethodNotAllowed;

    public static bool IsStoreFailure(Exception ex) =>
        ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException;

    public static ArtifactStoreException Failure(string what, Exception ex) =>
        new($"the object store could not {what} ({CodeOf(ex) ?? $"no answer: {ex.GetBaseException().GetType().Name}"})", ex);

    /// <summary>What the store answered, safe to show: its error code, else its HTTP status; null when it did not answer.</summary>
    public static string? CodeOf(Exception ex) => ex switch
    {
        AmazonServiceException { ErrorCode: { Length: > 0 } errorCode } => errorCode,
        AmazonServiceException { StatusCode: > 0 } service => $"HTTP {(int)service.StatusCode}",
        _ => null,
    };
}
