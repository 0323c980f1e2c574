using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registry.Core.Onnx;

/// <summary>
/// What an ONNX file declares about itself, read from its protobuf header without ONNX Runtime:
/// the graph's inputs and outputs, IR version, opsets, producer, operator counts and parameter count.
/// </summary>
public sealed record ModelSignature(
    long IrVersion,
    IReadOnlyList<OpsetImport> Opsets,
    string? ProducerName,
    string? ProducerVersion,
    string? Domain,
    long ModelVersion,
    string? GraphName,
    IReadOnlyList<ValueSpec> Inputs,
    IReadOnlyList<ValueSpec> Outputs,
    IReadOnlyList<OperatorCount> Operators,
    long ParameterCount,
    int InitializerCount,
    IReadOnlyDictionary<string, string> MetadataProps)
{
    /// <summary>Total number of nodes, subgraphs and local functions included.</summary>
    public int NodeCount => Operators.Sum(o => o.Count);
}

/// <summary>An opset the model imports; the default domain "" is reported as <c>ai.onnx</c>.</summary>
public sealed record OpsetImport(string Domain, long Version);

/// <summary>How many nodes of one operator the model uses.</summary>
public sealed record OperatorCount(string Domain, string OpType, int Count);

/// <summary>
/// A graph input or output. <see cref="Type"/> is ONNX's notation (<c>tensor(float)</c>,
/// <c>seq(tensor(int64))</c>); <see cref="ElementType"/> and <see cref="Shape"/> are set for tensors.
/// A null <see cref="Shape"/> means the rank is unknown.
/// </summary>
public sealed record ValueSpec(string Name, string Type, string? ElementType, IReadOnlyList<Dim>? Shape)
{
    /// <summary>The shape as people write it: <c>[batch, 3, 224, 224]</c>, <c>?</c> for an unknown dimension.</summary>
    [JsonIgnore]
    public string ShapeText => Shape is null ? "unknown rank" : "[" + string.Join(", ", Shape.Select(d => d.ToString())) + "]";
}

/// <summary>One dimension: a fixed size, a symbolic name, or unknown. In JSON: a number, a string or null.</summary>
[JsonConverter(typeof(DimJsonConverter))]
public sealed record Dim(long? Value, string? Param)
{
    public static readonly Dim Unknown = new(null, null);

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}

internal sealed class DimJsonConverter : JsonConverter<Dim>
{
    public override Dim Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number => new Dim(reader.GetInt64(), null),
        JsonTokenType.String => new Dim(null, reader.GetString()),
        JsonTokenType.Null => Dim.Unknown,
        _ => throw new JsonException("A dimension is a number, a string or null."),
    };

    public override void Write(Utf8JsonWriter writer, Dim value, JsonSerializerOptions options)
    {
        if (value.Value is { } v) writer.WriteNumberValue(v);
        else if (value.Param is { } p) writer.WriteStringValue(p);
        else writer.WriteNullValue();
    }

    // Dim is never null on the wire: null means "unknown dimension".
    public override bool HandleNull => true;
}
