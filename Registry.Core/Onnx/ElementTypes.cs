namespace Registry.Core.Onnx;

/// <summary>ONNX <c>TensorProto.DataType</c> codes and their names as ONNX writes them in type strings.</summary>
public static class ElementTypes
{
    private static readonly string[] Names =
    [
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
        "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16",
        "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
        "float4e2m1", "float8e8m0", "uint2", "int2",
    ];

    public const int Float = 1;
    public const int UInt8 = 2;
    public const int Int8 = 3;
    public const int UInt16 = 4;
    public const int Int16 = 5;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int String = 8;
    public const int Bool = 9;
    public const int Float16 = 10;
    public const int Double = 11;
    public const int UInt32 = 12;
    public const int UInt64 = 13;
    public const int BFloat16 = 16;

    private static readonly int[] Bits =
    [
        0, 32, 8, 8, 16, 16, 32, 64, 0, 8,
        16, 64, 32, 64, 64, 128, 16,
        8, 8, 8, 8, 4, 4,
        4, 8, 2, 2,
    ];

    /// <summary>Bits one element occupies in raw_data (0 for strings and unknown codes).</summary>
    public static int BitsPerElement(int code) => code >= 0 && code < Bits.Length ? Bits[code] : 0;

    /// <summary>Bytes that <paramref name="count"/> packed elements occupy in raw_data.</summary>
    public static long ByteLength(int code, long count) => (count * BitsPerElement(code) + 7) / 8;

    public static bool IsKnown(int code) => code > 0 && code < Names.Length;

    /// <summary>float, double, float16 and bfloat16: compared with tolerances and checked for NaN.</summary>
    public static bool IsFloatingPoint(int code) => code is Float or Double or Float16 or BFloat16;

    /// <summary>The ONNX name of a data type code, or <c>unknown(N)</c> for a code this build does not know.</summary>
    public static string Name(int code) =>
        code >= 0 && code < Names.Length ? Names[code] : $"unknown({code})";
}
