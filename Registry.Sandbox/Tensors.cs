using System.Buffers.Binary;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Registry.Core.Onnx;

namespace Registry.Sandbox;

/// <summary>Moves tensors between the registry's <see cref="TensorData"/> and ONNX Runtime's <see cref="OrtValue"/>.</summary>
internal static class Tensors
{
    /// <summary>An ORT tensor holding a copy of the data (strings included).</summary>
    public static OrtValue ToOrtValue(TensorData tensor, int? asType = null)
    {
        var type = asType ?? tensor.DataType;
        if (type == ElementTypes.String)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Dims);
            for (var i = 0; i < tensor.Strings!.Length; i++) strings.StringTensorSetElementAt(tensor.Strings[i], i);
            return strings;
        }
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)type, tensor.Dims);
        tensor.Bytes.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    /// <summary>
    /// A synthesized input: floating types drawn from [0, 1), everything else zero (integers 0, bools
    /// false, strings empty). The caller has checked the element count against the limit.
    /// </summary>
    public static OrtValue Synthesize(int type, long[] shape, Random random)
    {
        var count = OnnxHeaderReader.ElementCount(shape);
        if (type == ElementTypes.String)
            return OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)type, shape);
        var bytes = value.GetTensorMutableRawData();
        bytes.Clear();
        switch (type)
        {
            case ElementTypes.Float:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * 4)..], random.NextSingle());
                break;
            case ElementTypes.Double:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes[(i * 8)..], random.NextDouble());
                break;
            case ElementTypes.Float16:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes[(i * 2)..], BitConverter.HalfToUInt16Bits((Half)random.NextSingle()));
                break;
            case ElementTypes.BFloat16:
                for (var i = 0; i < count; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes[(i * 2)..], (ushort)(BitConverter.SingleToUInt32Bits(random.NextSingle()) >> 16));
                break;
        }
        return value;
    }

    /// <summary>Copies an ORT output tensor out as <see cref="TensorData"/>; null for non-tensors (sequences, maps).</summary>
    public static TensorData? FromOrtValue(string name, OrtValue value)
    {
        if (value.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR) return null;
        var info = value.GetTensorTypeAndShape();
        var type = (int)info.ElementDataType;
        if (type == ElementTypes.String)
            return TensorData.Create(name, type, info.Shape, [], value.GetStringTensorAsArray());
        return TensorData.Create(name, type, info.Shape, value.GetTensorMutableRawData().ToArray());
    }
}
