using Microsoft.ML.OnnxRuntime;
using Registry.Core.Validation;

namespace Registry.Sandbox;

/// <summary>What the bundled ONNX Runtime accepts. A test loads models at these limits and one past them.</summary>
internal static class OrtSupport
{
    public const long MaxIrVersion = 13;

    public static readonly IReadOnlyDictionary<string, long> MaxOpsets = new Dictionary<string, long>
    {
        ["ai.onnx"] = 26,
        ["ai.onnx.ml"] = 5,
        ["com.microsoft"] = 1,
    };

    public static string Runtime => $"onnxruntime {OrtEnv.Instance().GetVersionString()}";

    public static RuntimeSupport Current => new(Runtime, MaxIrVersion, MaxOpsets);
}
