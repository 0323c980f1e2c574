using Registry.Core.Onnx.Proto;

namespace Registry.Core.Onnx;

/// <summary>What matching a reference tensor to a graph value needs: its name, type and shape.</summary>
public interface ITensorDescription
{
    string Name { get; }
    int DataType { get; }
    long[] Dims { get; }
}

/// <summary>
/// A serialized TensorProto described without reading its values into memory: the wire format is
/// walked, payload fields are measured and skipped. Uploads check reference data with it, so a
/// reference part costs the server a few kilobytes however large it is; the sandbox reads the
/// values (<see cref="TensorData"/>).
/// </summary>
public sealed record TensorDescription(string Name, int DataType, long[] Dims) : ITensorDescription
{
    private const int MaxDims = 64;
    private const int MaxNameBytes = 64 * 1024;

    /// <summary>How many values each typed field of a TensorProto holds.</summary>
    public readonly record struct ValueCounts(long Floats, long Doubles, long Int32s, long Int64s, long UInt64s, long Strings);

    public static Result<TensorDescription> Read(Stream stream, string what)
    {
        string name = "";
        int dataType = 0, dataLocation = 0;
        var dims = new List<long>();
        long? raw = null;
        long floats = 0, doubles = 0, int32s = 0, int64s = 0, uint64s = 0, strings = 0;
        var external = false;
        var reader = new WireReader(stream);
        try
        {
            while (!reader.AtEnd)
            {
                var (field, wire) = reader.Tag();
                switch (field, wire)
                {
                    case (1, 0): dims.Add((long)reader.Varint()); break;
                    case (1, 2): reader.PackedVarints(dims); break;
                    case (2, 0): dataType = (int)reader.Varint(); break;
                    case (4, 2): floats += reader.Skip() / 4; break;
                    case (4, 5): floats++; reader.Skip(wire); break;
                    case (5, 2): int32s += reader.CountPackedVarints(); break;
                    case (5, 0): int32s++; reader.Varint(); break;
                    case (6, 2): strings++; reader.Skip(); break;
                    case (7, 2): int64s += reader.CountPackedVarints(); break;
                    case (7, 0): int64s++; reader.Varint(); break;
                    case (8, 2):
                        var bytes = reader.Bytes(MaxNameBytes);
                        if (bytes is null) return Refuse(what, "has a name longer than 64 KiB");
                        name = System.Text.Encoding.UTF8.GetString(bytes);
                        break;
                    case (9, 2): raw = reader.Skip(); break;
                    case (10, 2): doubles += reader.Skip() / 8; break;
                    case (10, 1): doubles++; reader.Skip(wire); break;
                    case (11, 2): uint64s += reader.CountPackedVarints(); break;
                    case (11, 0): uint64s++; reader.Varint(); break;
                    case (13, 2): external = true; reader.Skip(); break;
                    case (14, 0): dataLocation = (int)reader.Varint(); break;
                    default: reader.Skip(wire); break;
                }
                if (dims.Count > MaxDims) return Refuse(what, $"has more than {MaxDims} dimensions: it is not a TensorProto");
            }
        }
        catch (InvalidDataException)
        {
            return Refuse(what, "is not a serialized ONNX TensorProto (its bytes do not form a protobuf message)");
        }

        var dimsArray = dims.ToArray();
        var problem = Check(what, dataType, dimsArray, external || dataLocation == 1, raw, new ValueCounts(floats, doubles, int32s, int64s, uint64s, strings));
        return problem is null ? new TensorDescription(name, dataType, dimsArray) : problem;
    }

    /// <summary>
    /// The rules a TensorProto's values must meet to be reference data: a known type, non-negative
    /// dims, values inside the message, and exactly as many values as the dims say.
    /// </summary>
    public static RegistryError? Check(string what, int dataType, long[] dims, bool external, long? rawLength, ValueCounts values)
    {
        if (!ElementTypes.IsKnown(dataType))
            return Refuse(what, dataType == 0
                ? "has no data type: it is not a TensorProto (sequence, map and optional values are not supported as reference data)"
                : $"has the unknown data type {dataType}");
        if (dims.Any(d => d < 0))
            return Refuse(what, $"has a negative dimension in [{string.Join(", ", dims)}]");
        if (external)
            return Refuse(what, "keeps its values in an external file; reference data must hold its values itself");

        var count = OnnxHeaderReader.ElementCount(dims);
        var type = ElementTypes.Name(dataType);
        var shape = dims.Length <= 8 ? $"[{string.Join(", ", dims)}]" : $"[{string.Join(", ", dims.Take(8))}, … {dims.Length} dims]";
        // Reference data is bounded by the part size; a claim of more elements than any part holds is
        // refused before anything is allocated for it.
        if (count > TensorData.MaxElements)
            return Refuse(what, $"claims shape {shape}, more than {TensorData.MaxElements:N0} elements: it is not a TensorProto that reference data could hold");

        if (dataType == ElementTypes.String)
            return values.Strings == count ? null
                : Refuse(what, $"is a string tensor of shape {shape} ({count} elements) but holds {values.Strings} strings");

        if (rawLength is { } raw)
        {
            var expected = ElementTypes.ByteLength(dataType, count);
            return raw == expected ? null
                : Refuse(what, $"is {type} of shape {shape}, which needs {expected:N0} bytes of raw_data, but has {raw:N0}");
        }

        long? held = dataType switch
        {
            ElementTypes.Float => values.Floats,
            14 => values.Floats / 2, // complex64: two floats an element
            ElementTypes.Double => values.Doubles,
            15 => values.Doubles / 2, // complex128
            ElementTypes.Int64 => values.Int64s,
            ElementTypes.UInt32 or ElementTypes.UInt64 => values.UInt64s,
            ElementTypes.Int32 or ElementTypes.Int16 or ElementTypes.UInt16 or ElementTypes.Float16 or ElementTypes.BFloat16
                or ElementTypes.Int8 or ElementTypes.UInt8 or ElementTypes.Bool or 17 or 18 or 19 or 20 or 24 => values.Int32s,
            _ => null,
        };
        if (held is null) return Refuse(what, $"is {type}; store its values in raw_data");
        return held == count ? null : Refuse(what, $"is {type} of shape {shape} ({count:N0} elements) but holds {held:N0} values");
    }

    private static RegistryError Refuse(string what, string problem) =>
        RegistryError.Invalid("Invalid reference data", $"{what} {problem}.");

    /// <summary>A forward reader of protobuf wire format over a seekable stream; skipping seeks.</summary>
    private sealed class WireReader(Stream stream)
    {
        private readonly long _end = stream.Length;

        public bool AtEnd => stream.Position >= _end;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            var field = (int)(tag >> 3);
            if (field == 0) throw new InvalidDataException();
            return (field, (int)(tag & 7));
        }

        public ulong Varint()
        {
            try
            {
                return ProtoWire.ReadVarint(stream);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException("The message ends inside a field.");
            }
        }

        /// <summary>Skips a length-delimited field and returns its length.</summary>
        public long Skip()
        {
            var length = Length();
            stream.Position += length;
            return length;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Advance(8); break;
                case 2: Skip(); break;
                case 5: Advance(4); break;
                default: throw new InvalidDataException();
            }
        }

        public byte[]? Bytes(int max)
        {
            var length = Length();
            if (length > max)
            {
                stream.Position += length;
                return null;
            }
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }

        public void PackedVarints(List<long> into)
        {
            var end = stream.Position + Length();
            while (stream.Position < end && into.Count <= MaxDims) into.Add((long)Varint());
            stream.Position = end;
        }

        /// <summary>Counts the varints of a packed field by their last bytes (high bit clear), reading in chunks.</summary>
        public long CountPackedVarints()
        {
            var remaining = Length();
            long count = 0;
            Span<byte> buffer = stackalloc byte[8192];
            while (remaining > 0)
            {
                var n = stream.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]);
                if (n <= 0) throw new InvalidDataException();
                foreach (var b in buffer[..n]) if ((b & 0x80) == 0) count++;
                remaining -= n;
            }
            return count;
        }

        private long Length()
        {
            var length = (long)Varint();
            if (length < 0 || stream.Position + length > _end) throw new InvalidDataException();
            return length;
        }

        private void Advance(int bytes)
        {
            if (stream.Position + bytes > _end) throw new InvalidDataException();
            stream.Position += bytes;
        }
    }
}
