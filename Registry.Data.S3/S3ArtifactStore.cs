using System.Net;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Registry.Core;
using Registry.Core.Storage;

namespace Registry.Data.S3;

/// <summary>
/// Artifacts as objects in an S3-compatible bucket, under <c>{Prefix}sha256/&lt;2 hex&gt;/&lt;64 hex&gt;</c>:
/// the store several instances share. An upload is staged twice in one pass: to a local temporary file
/// (for the header inspection) and, as it arrives, to a multipart upload at <c>{Prefix}staging-{guid}</c>;
/// committing completes that upload and copies it, inside the bucket, to its content address.
/// </summary>
internal sealed class S3ArtifactStore(S3Bucket bucket, LocalStaging staging, ILogger<S3ArtifactStore> logger) : IArtifactStore, IArtifactMaintenance
{
    private int _warnedMultipartListing;

    /// <summary>
    /// Commits of the same digest in this process take turns (a stripe per digest's hash): copying
    /// onto one key side by side is redundant work, and S3-compatibles that write a key through a
    /// rename (s3rver) fail one of the copies with InternalError. Commits of other digests rarely
    /// share a stripe, and then only wait for each other's copy.
    /// </summary>
    private readonly SemaphoreSlim[] _commitStripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<Result<StagedArtifact>> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var upload = new S3StagingUpload(bucket, logger);
        Result<LocalStagedFile> staged;
        try
        {
            staged = await staging.StageAsync(content, maxBytes, upload.ForwardAsync, cancellationToken);
        }
        catch
        {
            await upload.DisposeAsync();
            throw;
        }
        if (!staged.IsSuccess)
        {
            await upload.DisposeAsync();
            return staged.Error!;
        }
        var file = staged.Value;
        file.Companion = upload;
        try
        {
            await upload.FinishAsync(cancellationToken);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
        return file;
    }

    public async Task<string> CommitAsync(StagedArtifact staged, CancellationToken cancellationToken)
    {
        if (staged is not LocalStagedFile { Companion: S3StagingUpload upload })
            throw new ArgumentException("The upload was not staged by this store.", nameof(staged));
        var key = StorageKeys.Of(staged.Sha256);
        var stripe = _commitStripes[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_commitStripes.Length)];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            await upload.CommitAsync(bucket.ObjectKey(key), staged.SizeBytes, cancellationToken);
        }
        finally
        {
            stripe.Release();
        }
        return key;
    }

    public async Task<Stream?> OpenReadAsync(string storageKey, long offset, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = bucket.Name, Key = bucket.ObjectKey(storageKey) };
        if (offset > 0) request.ByteRange = new ByteRange($"bytes={offset}-");
        try
        {
            var response = await bucket.Client.GetObjectAsync(request, cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception ex) when (S3Calls.IsNotFound(ex))
        {
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // Reading from the end (or past it) reads nothing, as a file seeked there would.
            return new MemoryStream([], writable: false);
        }
        catch (Exception ex) when (S3Calls.IsStoreFailure(ex))
        {
            throw S3Calls.Failure("read a stored artifact", ex);
        }
    }

    public async Task<long?> GetSizeAsync(string storageKey, CancellationToken cancellationToken)
    {
        var objectKey = bucket.ObjectKey(storageKey);
        var metadata = await S3Calls.RunOrNullAsync("look up a stored artifact",
            () => bucket.Client.GetObjectMetadataAsync(bucket.Name, objectKey, cancellationToken));
        return metadata?.ContentLength;
    }

    public async Task<StoredObject?> StatAsync(string storageKey, CancellationToken cancellationToken)
    {
        var metadata = await S3Calls.RunOrNullAsync("look up a stored artifact",
            () => bucket.Client.GetObjectMetadataAsync(bucket.Name, bucket.ObjectKey(storageKey), cancellationToken));
        return metadata is null ? null : new StoredObject(storageKey, metadata.ContentLength, LastModified(metadata.LastModified));
    }

    public Task DeleteAsync(string storageKey, CancellationToken cancellationToken)
    {
        var objectKey = bucket.ObjectKey(storageKey);
        return S3Calls.RunAsync("delete a stored artifact", () => bucket.Client.DeleteObjectAsync(bucket.Name, objectKey, cancellationToken));
    }

    /// <summary>Downloads the object, streamed, to a new file in the local temporary folder; disposing the copy deletes it.</summary>
    public async Task<LocalArtifactCopy?> GetLocalCopyAsync(string storageKey, CancellationToken cancellationToken)
    {
        var objectKey = bucket.ObjectKey(storageKey);
        using var response = await S3Calls.RunOrNullAsync("read a stored artifact",
            () => bucket.Client.GetObjectAsync(bucket.Name, objectKey, cancellationToken));
        if (response is null) return null;
        var path = staging.NewCopyPath();
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await S3Calls.RunAsync("download a stored artifact", () => response.ResponseStream.CopyToAsync(file, cancellationToken));
        }
        catch
        {
            LocalStaging.TryDelete(path, logger);
            throw;
        }
        return new LocalArtifactCopy(path, () =>
        {
            LocalStaging.TryDelete(path, logger);
            return ValueTask.CompletedTask;
        });
    }

    public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in ListObjectsAsync(bucket.ContentPrefix, cancellationToken))
        {
            var key = bucket.Unprefixed(item.Key);
            if (StorageKeys.IsKey(key)) yield return new StoredObject(key, item.Size ?? 0, LastModified(item.LastModified));
        }
    }

    /// <summary>
    /// Local leftovers, then multipart uploads under <c>{Prefix}staging-</c> last written before the
    /// cutoff (their newest part, or their start when they have none), then staging objects older than it.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteStaleStagingAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        var removed = new List<string>(staging.DeleteStale(olderThan));
        await foreach (var upload in ListUploadsAsync(cancellationToken))
        {
            if (LastModified(upload.Initiated) >= olderThan || await LastPartWrittenAsync(upload, cancellationToken) >= olderThan) continue;
            var abort = new AbortMultipartUploadRequest { BucketName = bucket.Name, Key = upload.Key, UploadId = upload.UploadId };
            await S3Calls.RunAsync("abort a stale staging upload", () => bucket.Client.AbortMultipartUploadAsync(abort, cancellationToken));
            removed.Add($"{bucket.Unprefixed(upload.Key)} (unfinished upload)");
        }
        await foreach (var item in ListObjectsAsync(bucket.StagingPrefix, cancellationToken))
        {
            if (LastModified(item.LastModified) >= olderThan) continue;
            await S3Calls.RunAsync("delete a stale staging object", () => bucket.Client.DeleteObjectAsync(bucket.Name, item.Key, cancellationToken));
            removed.Add(bucket.Unprefixed(item.Key));
        }
        return removed;
    }

    private async IAsyncEnumerable<S3Object> ListObjectsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = bucket.Name, Prefix = prefix };
        while (true)
        {
            var page = await S3Calls.RunAsync("list the stored artifacts", () => bucket.Client.ListObjectsV2Async(request, cancellationToken));
            foreach (var item in page.S3Objects ?? []) yield return item;
            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken)) yield break;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    private async IAsyncEnumerable<MultipartUpload> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListMultipartUploadsRequest { BucketName = bucket.Name, Prefix = bucket.StagingPrefix };
        while (true)
        {
            ListMultipartUploadsResponse page;
            try
            {
                page = await bucket.Client.ListMultipartUploadsAsync(request, cancellationToken);
            }
            catch (AmazonS3Exception ex) when (S3Calls.IsUnsupported(ex))
            {
                if (Interlocked.Exchange(ref _warnedMultipartListing, 1) == 0)
                    logger.LogWarning("The object store ({Bucket}) cannot list multipart uploads; unfinished staging uploads there are left to the bucket's own clean-up", bucket.Describe());
                yield break;
            }
            catch (Exception ex) when (S3Calls.IsStoreFailure(ex))
            {
                throw S3Calls.Failure("list the unfinished uploads", ex);
            }
            foreach (var upload in page.MultipartUploads ?? []) yield return upload;
            if (page.IsTruncated != true) yield break;
            request.KeyMarker = page.NextKeyMarker;
            request.UploadIdMarker = page.NextUploadIdMarker;
        }
    }

    /// <summary>When the newest part of an upload was written; an upload of many hours may still be receiving.</summary>
    private async Task<DateTimeOffset> LastPartWrittenAsync(MultipartUpload upload, CancellationToken cancellationToken)
    {
        var latest = LastModified(upload.Initiated);
        var request = new ListPartsRequest { BucketName = bucket.Name, Key = upload.Key, UploadId = upload.UploadId };
        while (true)
        {
            var page = await S3Calls.RunAsync("list the parts of an unfinished upload", () => bucket.Client.ListPartsAsync(request, cancellationToken));
            foreach (var part in page.Parts ?? [])
            {
                var written = LastModified(part.LastModified);
                if (written > latest) latest = written;
            }
            if (page.IsTruncated != true) return latest;
            request.PartNumberMarker = page.NextPartNumberMarker?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A time the server did not send counts as now: nothing is ever swept or collected for looking old when its age is unknown.</summary>
    private static DateTimeOffset LastModified(DateTime? value) =>
        value is { } time ? new DateTimeOffset(time.ToUniversalTime()) : DateTimeOffset.UtcNow;
}
