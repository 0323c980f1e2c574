using System.Security.Cryptography;

namespace Registry.Web.Api;

/// <summary>
/// Passes a stored artifact through while hashing it; at the end, if the SHA-256 differs from the
/// recorded one, throws instead of reporting end-of-stream, which aborts the HTTP response.
/// </summary>
internal sealed class DigestVerifyingStream(Stream inner, string expectedSha256, Action onMismatch) : Stream
{
    private IncrementalHash? _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Check(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Check(buffer[..n]);
        return n;
    }

    private void Check(ReadOnlySpan<byte> data)
    {
        if (_hash is null) return;
        _hash.AppendData(data);
        _read += data.Length;
        // The response writer stops after Length bytes without a final empty read, so check then; the
        // last chunk is withheld on a mismatch.
        if (data.Length > 0 && _read < inner.Length) return;
        var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        _hash.Dispose();
        _hash = null;
        if (!string.Equals(actual, expectedSha256, StringComparison.Ordinal))
        {
            onMismatch();
            throw new IOException($"The stored artifact does not match its SHA-256 {expectedSha256} (found {actual}).");
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var position = inner.Seek(offset, origin);
        // Verification needs every byte from the start; after a seek elsewhere it no longer applies.
        if (position != 0)
        {
            _hash?.Dispose();
            _hash = null;
        }
        return position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash?.Dispose();
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
