using System.Buffers;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Registry.Core.Storage;

namespace Registry.Data.S3;

/// <summary>
/// One upload on its way into the bucket's staging area, fed chunk by chunk while the same bytes go to
/// the local staging file. Chunks are gathered into parts of <see cref="PartSize"/> and sent as a
/// multipart upload with at most <see cref="MaxPartsInFlight"/> parts on the wire, so memory stays
/// bounded at (1 + <see cref="MaxPartsInFlight"/>) × <see cref="PartSize"/> whatever the file size.
/// An upload that never fills a part is sent as one PUT at the end. It is the staged file's
/// companion: disposing it before <see cref="CommitAsync"/> aborts the upload or deletes the staging
/// object, so a refused or failed upload leaves nothing in the bucket.
/// </summary>
internal sealed class S3StagingUpload(S3Bucket bucket, ILogger logger) : IAsyncDisposable
{
    /// <summary>The size of every part but the last (S3 wants at least 5 MiB).</summary>
    public const int PartSize = 8 * 1024 * 1024;

    /// <summary>How many parts may be uploading while the next one fills.</summary>
    public const int MaxPartsInFlight = 2;

    /// <summary>
    /// The part buffers of every upload of the process. A pool of its own, bounded, rather than the
    /// shared one: buffers are rented on one thread and returned on another (where a part's request
    /// completed), and the shared pool keeps one per thread, which held some 80 MiB of idle 8 MiB
    /// buffers during a single 1 GiB upload. Up to 8 idle buffers (64 MiB) stay after a burst of
    /// concurrent uploads.
    /// </summary>
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(PartSize, maxArraysPerBucket: 8);

    /// <summary>The largest object a single CopyObject may copy.</summary>
    private const long MaxSingleCopyBytes = 5L * 1024 * 1024 * 1024;

    /// <summary>The part size of a multipart copy; grown for very large objects to stay within 10,000 parts.</summary>
    private const long CopyPartBytes = 512L * 1024 * 1024;

    private readonly Queue<Task<PartETag>> _inFlight = new();
    private readonly List<PartETag> _parts = [];
    private byte[]? _buffer;
    private int _filled;
    private int _partsStarted;
    private string? _uploadId;
    private bool _completed;
    private bool _objectWritten;
    private bool _committed;
    private bool _disposed;

    /// <summary>The staging object key, <c>{Prefix}staging-{guid}</c>.</summary>
    public string Key { get; } = bucket.NewStagingKey();

    /// <summary>Takes one chunk; sends a part whenever one is full, waiting when too many are on the wire.</summary>
    public async ValueTask ForwardAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        while (!chunk.IsEmpty)
        {
            _buffer ??= Buffers.Rent(PartSize);
            var n = Math.Min(chunk.Length, PartSize - _filled);
            chunk[..n].CopyTo(_buffer.AsMemory(_filled));
            _filled += n;
            chunk = chunk[n..];
            if (_filled == PartSize) await SendPartAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Called once every byte was forwarded: sends what is left and waits for every part, so that the
    /// bytes are in the bucket (as a staging object or a multipart upload waiting to be completed).
    /// </summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            using var body = new MemoryStream(_buffer ?? [], 0, _filled, writable: false);
            await S3Calls.RunAsync("store the upload", () => bucket.Client.PutObjectAsync(bucket.Put(Key, body), cancellationToken));
            _objectWritten = true;
            ReleaseBuffer();
            return;
        }
        if (_filled > 0) await SendPartAsync(cancellationToken);
        while (_inFlight.Count > 0) _parts.Add(await _inFlight.Dequeue());
    }

    /// <summary>
    /// Completes the multipart upload and copies the staging object to <paramref name="objectKey"/>
    /// inside the bucket (always a fresh copy, so its LastModified starts the garbage collector's
    /// grace period now), then deletes the staging object.
    /// </summary>
    public async Task CommitAsync(string objectKey, long sizeBytes, CancellationToken cancellationToken)
    {
        if (_uploadId is not null && !_completed)
        {
            var complete = new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = Key, UploadId = _uploadId, PartETags = [.. _parts] };
            await S3Calls.RunAsync("complete the upload", () => bucket.Client.CompleteMultipartUploadAsync(complete, cancellationToken));
            _completed = true;
            _objectWritten = true;
        }
        if (sizeBytes <= MaxSingleCopyBytes)
        {
            var copy = new CopyObjectRequest { SourceBucket = bucket.Name, SourceKey = Key, DestinationBucket = bucket.Name, DestinationKey = objectKey };
            await S3Calls.RunAsync("move the upload into place", () => bucket.Client.CopyObjectAsync(copy, cancellationToken));
        }
        else
        {
            await CopyInPartsAsync(objectKey, sizeBytes, cancellationToken);
        }
        _committed = true;
        await DeleteStagingObjectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        // A part still on the wire could land after an abort and survive it: let every one finish first.
        while (_inFlight.Count > 0)
        {
            try { _parts.Add(await _inFlight.Dequeue()); }
            catch (Exception ex) when (ex is ArtifactStoreException or OperationCanceledException) { /* the failure being reported is the one that stopped the upload */ }
        }
        ReleaseBuffer();
        if (_committed) return;
        if (_uploadId is not null && !_completed) await AbortAsync();
        else if (_objectWritten) await DeleteStagingObjectAsync();
    }

    private async Task SendPartAsync(CancellationToken cancellationToken)
    {
        if (_inFlight.Count >= MaxPartsInFlight) _parts.Add(await _inFlight.Dequeue());
        if (_uploadId is null)
        {
            var initiate = new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = Key };
            _uploadId = (await S3Calls.RunAsync("start the upload", () => bucket.Client.InitiateMultipartUploadAsync(initiate, cancellationToken))).UploadId;
        }
        var buffer = _buffer!;
        var length = _filled;
        _buffer = null;
        _filled = 0;
        _inFlight.Enqueue(UploadPartAsync(++_partsStarted, buffer, length, cancellationToken));
    }

    private async Task<PartETag> UploadPartAsync(int partNumber, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            using var body = new MemoryStream(buffer, 0, length, writable: false);
            var request = bucket.Part(Key, _uploadId!, partNumber, body);
            var response = await S3Calls.RunAsync("upload a part of the file", () => bucket.Client.UploadPartAsync(request, cancellationToken));
            return new PartETag(partNumber, response.ETag);
        }
        finally
        {
            Buffers.Return(buffer);
        }
    }

    private async Task CopyInPartsAsync(string objectKey, long sizeBytes, CancellationToken cancellationToken)
    {
        var initiate = new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = objectKey };
        var uploadId = (await S3Calls.RunAsync("start copying the upload into place", () => bucket.Client.InitiateMultipartUploadAsync(initiate, cancellationToken))).UploadId;
        try
        {
            var partBytes = Math.Max(CopyPartBytes, (sizeBytes + 9_999) / 10_000);
            var parts = new List<PartETag>();
            for (long first = 0; first < sizeBytes; first += partBytes)
            {
                var request = new CopyPartRequest
                {
                    SourceBucket = bucket.Name,
                    SourceKey = Key,
                    DestinationBucket = bucket.Name,
                    DestinationKey = objectKey,
                    UploadId = uploadId,
                    PartNumber = parts.Count + 1,
                    FirstByte = first,
                    LastByte = Math.Min(first + partBytes, sizeBytes) - 1,
                };
                var response = await S3Calls.RunAsync("copy the upload into place", () => bucket.Client.CopyPartAsync(request, cancellationToken));
                parts.Add(new PartETag(request.PartNumber.Value, response.ETag));
            }
            var complete = new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = objectKey, UploadId = uploadId, PartETags = parts };
            await S3Calls.RunAsync("finish copying the upload into place", () => bucket.Client.CompleteMultipartUploadAsync(complete, cancellationToken));
        }
        catch
        {
            await AbortQuietlyAsync(objectKey, uploadId);
            throw;
        }
    }

    private async Task AbortAsync()
    {
        try
        {
            await bucket.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket.Name, Key = Key, UploadId = _uploadId }, CancellationToken.None);
        }
        catch (AmazonS3Exception ex) when (S3Calls.IsUnsupported(ex) && _parts.Count > 0)
        {
            // A server without abort (s3rver) still completes: turn the parts into an object and delete it.
            try
            {
                var complete = new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = Key, UploadId = _uploadId, PartETags = [.. _parts] };
                await bucket.Client.CompleteMultipartUploadAsync(complete, CancellationToken.None);
                await DeleteStagingObjectAsync();
            }
            catch (Exception inner) when (S3Calls.IsStoreFailure(inner))
            {
                logger.LogWarning(inner, "Could not discard the staging upload {Key}; the garbage collector's sweep removes it later", Key);
            }
        }
        catch (Exception ex) when (S3Calls.IsStoreFailure(ex))
        {
            logger.LogWarning(ex, "Could not abort the staging upload {Key}; the garbage collector's sweep removes it later", Key);
        }
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            await bucket.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket.Name, Key = key, UploadId = uploadId }, CancellationToken.None);
        }
        catch (Exception ex) when (S3Calls.IsStoreFailure(ex))
        {
            logger.LogWarning(ex, "Could not abort the unfinished copy into {Key}; a bucket lifecycle rule for incomplete multipart uploads removes it", key);
        }
    }

    private async Task DeleteStagingObjectAsync()
    {
        try
        {
            await bucket.Client.DeleteObjectAsync(bucket.Name, Key, CancellationToken.None);
            _objectWritten = false;
        }
        catch (Exception ex) when (S3Calls.IsStoreFailure(ex))
        {
            logger.LogWarning(ex, "Could not delete the staging object {Key}; the garbage collector's sweep removes it later", Key);
        }
    }

    private void ReleaseBuffer()
    {
        if (_buffer is null) return;
        Buffers.Return(_buffer);
        _buffer = null;
        _filled = 0;
    }
}
