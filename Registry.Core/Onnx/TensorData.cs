using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Registry.Core.Onnx.Proto;

namespace Registry.Core.Onnx;

/// <summary>
/// A tensor's values decoded from a serialized TensorProto into one little-endian buffer in the
/// element type's packed layout (what ONNX Runtime expects), or a list of strings.
/// </summary>
public sealed class TensorData : ITensorDescription
{
    private TensorData(string name, int dataType, long[] dims, byte[] bytes, string[]? strings)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        Bytes = bytes;
        Strings = strings;
    }

    /// <summary>More elements than any reference part can hold.</summary>
    public const long MaxElements = int.MaxValue / 16;

    public string Name { get; }

    /// <summary>ONNX data type code (<see cref="ElementTypes"/>).</summary>
    public int DataType { get; }

    public long[] Dims { get; }

    public long ElementCount => OnnxHeaderReader.ElementCount(Dims);

    public byte[] Bytes { get; }

    public string[]? Strings { get; }

    /// <summary>Reads a serialized TensorProto (a <c>test_data_set_*/input_N.pb</c> file) and checks that its values match its dims.</summary>
    public static Result<TensorData> Parse(ReadOnlySpan<byte> serialized, string what)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(serialized);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Refuse(what, $"is not a serialized ONNX TensorProto ({ex.Message.TrimEnd('.')})");
        }
        return FromProto(proto, what);
    }

    public static Result<TensorData> FromProto(TensorProto t, string what)
    {
        var dims = t.Dims.ToArray();
        var problem = TensorDescription.Check(what, t.DataType, dims, t.DataLocation == 1 || t.ExternalData.Count > 0,
            t.HasRawData ? t.RawData.Length : null,
            new TensorDescription.ValueCounts(t.FloatData.Count, t.DoubleData.Count, t.Int32Data.Count, t.Int64Data.Count, t.Uint64Data.Count, t.StringData.Count));
        if (problem is not null) return problem;

        if (t.DataType == ElementTypes.String)
            return new TensorData(t.Name, t.DataType, dims, [], t.StringData.Select(s => s.ToStringUtf8()).ToArray());
        if (t.HasRawData)
            return new TensorData(t.Name, t.DataType, dims, t.RawData.ToByteArray(), null);

        var count = OnnxHeaderReader.ElementCount(dims);
        var expectedBytes = ElementTypes.ByteLength(t.DataType, count);
        var bytes = new byte[expectedBytes];
        var span = bytes.AsSpan();
        // TensorDescription.Check has matched the value count to the dims.
        switch (t.DataType)
        {
            case ElementTypes.Float:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], t.FloatData[i]);
                break;
            case 14: // complex64: two floats an element
                for (var i = 0; i < t.FloatData.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], t.FloatData[i]);
                break;
            case ElementTypes.Double:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], t.DoubleData[i]);
                break;
            case 15: // complex128: two doubles an element
                for (var i = 0; i < t.DoubleData.Count; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], t.DoubleData[i]);
                break;
            case ElementTypes.Int64:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], t.Int64Data[i]);
                break;
            case ElementTypes.UInt32:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], (uint)t.Uint64Data[i]);
                break;
            case ElementTypes.UInt64:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt64LittleEndian(span[(i * 8)..], t.Uint64Data[i]);
                break;
            case ElementTypes.Int32:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], t.Int32Data[i]);
                break;
            case ElementTypes.Int16 or ElementTypes.UInt16 or ElementTypes.Float16 or ElementTypes.BFloat16:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], (ushort)t.Int32Data[i]);
                break;
            case ElementTypes.Int8 or ElementTypes.UInt8 or ElementTypes.Bool or 17 or 18 or 19 or 20 or 24:
                for (var i = 0; i < count; i++) span[i] = (byte)t.Int32Data[i];
                break;
            default:
                throw new InvalidOperationException($"{ElementTypes.Name(t.DataType)} values must be in raw_data; TensorDescription.Check refuses them otherwise.");
        }
        return new TensorData(t.Name, t.DataType, dims, bytes, null);
    }

    /// <summary>Element <paramref name="i"/> as a number, for comparison (floating types decoded, integers converted).</summary>
    public double GetDouble(long i)
    {
        var s = Bytes.AsSpan();
        return DataType switch
        {
            ElementTypes.Float => BinaryPrimitives.ReadSingleLittleEndian(s[(int)(i * 4)..]),
            ElementTypes.Double => BinaryPrimitives.ReadDoubleLittleEndian(s[(int)(i * 8)..]),
            ElementTypes.Float16 => (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s[(int)(i * 2)..])),
            ElementTypes.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(int)(i * 2)..]) << 16),
            ElementTypes.Int8 => (sbyte)s[(int)i],
            ElementTypes.UInt8 or ElementTypes.Bool => s[(int)i],
            ElementTypes.Int16 => BinaryPrimitives.ReadInt16LittleEndian(s[(int)(i * 2)..]),
            ElementTypes.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s[(int)(i * 2)..]),
            ElementTypes.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s[(int)(i * 4)..]),
            ElementTypes.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s[(int)(i * 4)..]),
            ElementTypes.Int64 => BinaryPrimitives.ReadInt64LittleEndian(s[(int)(i * 8)..]),
            ElementTypes.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s[(int)(i * 8)..]),
            _ => throw new NotSupportedException($"{ElementTypes.Name(DataType)} values are compared byte for byte."),
        };
    }

    /// <summary>Element <paramref name="i"/> written exactly (integers are not rounded through double).</summary>
    public string FormatElement(long i)
    {
        var s = Bytes.AsSpan();
        return DataType switch
        {
            ElementTypes.Int64 => BinaryPrimitives.ReadInt64LittleEndian(s[(int)(i * 8)..]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementTypes.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s[(int)(i * 8)..]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementTypes.Bool => s[(int)i] == 0 ? "false" : "true",
            _ => GetDouble(i).ToString("G9", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Whether element <paramref name="i"/> has the same bytes in both tensors (same type assumed).</summary>
    public bool SameElement(TensorData other, long i)
    {
        var size = ElementTypes.BitsPerElement(DataType) / 8;
        return Bytes.AsSpan((int)(i * size), size).SequenceEqual(other.Bytes.AsSpan((int)(i * size), size));
    }

    /// <summary>A copy that reads the same bytes as another element type of the same width (bfloat16 stored as uint16).</summary>
    public TensorData Reinterpret(int dataType) => new(Name, dataType, Dims, Bytes, Strings);

    public static TensorData Create(string name, int dataType, long[] dims, byte[] bytes, string[]? strings = null) =>
        new(name, dataType, dims, bytes, strings);

    /// <summary>Serializes as a TensorProto with raw_data (or string_data), the format reference files use.</summary>
    public byte[] ToProtoBytes()
    {
        var proto = new TensorProto { Name = Name, DataType = DataType };
        proto.Dims.AddRange(Dims);
        if (Strings is not null) proto.StringData.AddRange(Strings.Select(s => ByteString.CopyFrom(s, Encoding.UTF8)));
        else proto.RawData = ByteString.CopyFrom(Bytes);
        return proto.ToByteArray();
    }

    private static RegistryError Refuse(string what, string problem) =>
        RegistryError.Invalid("Invalid reference data", $"{what} {problem}.");
}
