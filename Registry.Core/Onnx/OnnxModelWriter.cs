using System.Runtime.InteropServices;
using Google.Protobuf;
using Registry.Core.Onnx.Proto;

namespace Registry.Core.Onnx;

/// <summary>
/// A weight tensor to append to a model's graph as an initializer: its header (name, type, dims)
/// and a callback that writes exactly <see cref="ByteLength"/> bytes of <c>raw_data</c>.
/// </summary>
public sealed record InitializerPayload(TensorHeader Header, long ByteLength, Action<Stream> WriteBytes)
{
    /// <summary>An initializer holding these float values (little-endian raw_data, as ONNX stores it).</summary>
    public static InitializerPayload FromFloats(string name, long[] dims, float[] values)
    {
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var header = new TensorHeader { Name = name, DataType = ElementTypes.Float };
        header.Dims.AddRange(dims);
        return new InitializerPayload(header, bytes.Length, s => s.Write(bytes));
    }
}

/// <summary>
/// Writes ONNX model files from the header schema plus streamed weight payloads. Because the header
/// schema has no payload fields, the payloads are appended as <c>raw_data</c> (field 9) of their
/// initializer messages: protobuf fields may come in any order, so the result is an ordinary ONNX file.
/// Used by tests and the benchmark to build models of any size without holding the weights in memory.
/// </summary>
public static class OnnxModelWriter
{
    private const int GraphField = 7;
    private const int InitializerField = 5;
    private const int RawDataField = 9;

    public static void Write(Stream output, ModelHeader model, IReadOnlyList<InitializerPayload>? payloads = null)
    {
        ArgumentNullException.ThrowIfNull(model.Graph, nameof(model));
        payloads ??= [];

        var withoutGraph = model.Clone();
        withoutGraph.Graph = null;
        var graphBytes = model.Graph.ToByteArray();

        var entries = payloads.Select(p =>
        {
            var header = p.Header.ToByteArray();
            var size = header.Length + CodedOutputStream.ComputeTagSize(RawDataField)
                + CodedOutputStream.ComputeLengthSize(checked((int)p.ByteLength)) + p.ByteLength;
            return (Payload: p, Header: header, Size: checked((int)size));
        }).ToList();

        long graphLength = graphBytes.Length;
        foreach (var e in entries)
            graphLength += CodedOutputStream.ComputeTagSize(InitializerField) + CodedOutputStream.ComputeLengthSize(e.Size) + e.Size;
        if (graphLength > int.MaxValue)
            throw new ArgumentException("A single-file ONNX model is limited to 2 GiB by protobuf.", nameof(payloads));

        var coded = new CodedOutputStream(output, leaveOpen: true);
        withoutGraph.WriteTo(coded);
        coded.WriteTag(GraphField, WireFormat.WireType.LengthDelimited);
        coded.WriteLength((int)graphLength);
        coded.Flush();
        output.Write(graphBytes);
        foreach (var e in entries)
        {
            coded.WriteTag(InitializerField, WireFormat.WireType.LengthDelimited);
            coded.WriteLength(e.Size);
            coded.Flush();
            output.Write(e.Header);
            coded.WriteTag(RawDataField, WireFormat.WireType.LengthDelimited);
            coded.WriteLength((int)e.Payload.ByteLength);
            coded.Flush();
            var counting = new CountingStream(output);
            e.Payload.WriteBytes(counting);
            if (counting.Written != e.Payload.ByteLength)
                throw new InvalidOperationException(
                    $"Initializer '{e.Payload.Header.Name}' wrote {counting.Written} bytes but declared {e.Payload.ByteLength}.");
        }
        coded.Flush();
    }

    public static byte[] ToBytes(ModelHeader model, IReadOnlyList<InitializerPayload>? payloads = null)
    {
        using var buffer = new MemoryStream();
        Write(buffer, model, payloads);
        return buffer.ToArray();
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
