namespace Registry.Core.Onnx;

/// <summary>The one piece of protobuf wire format the scanners read by hand.</summary>
internal static class ProtoWire
{
    /// <summary>Reads a base-128 varint; <see cref="EndOfStreamException"/> at the end of the stream, <see cref="InvalidDataException"/> past ten bytes.</summary>
    public static ulong ReadVarint(Stream stream)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("A varint runs past ten bytes.");
    }
}
