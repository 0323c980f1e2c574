using Registry.Core.Storage;

namespace Registry.Web.Api;

/// <summary>
/// Stored bytes as a seekable stream of known length, so that ASP.NET's range processing (Range,
/// If-Range, 206/416) works on any artifact store: a seek only moves the position, and the first read
/// after it opens the store at that offset. The store is asked for at most what is read.
/// </summary>
internal sealed class ArtifactReadStream(IArtifactStore store, string storageKey, long length) : Stream
{
    private Stream? _inner;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        if (target != _position)
        {
            _inner?.Dispose();
            _inner = null;
            _position = target;
        }
        return _position;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        _inner ??= await store.OpenReadAsync(storageKey, _position, cancellationToken)
            ?? throw new IOException($"The stored artifact {storageKey} disappeared while it was being read.");
        var n = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner?.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_inner is not null) await _inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
