using Registry.Core.Onnx;

namespace Registry.Core.Validation;

/// <summary>
/// Matches reference tensors sent with an upload to the graph's inputs and outputs (by the tensor's
/// name, else by position) and checks that they fit: element type, rank and fixed dimensions.
/// Also checks declared smoke-test shapes against the signature.
/// </summary>
public static class ReferenceMatching
{
    /// <summary>Returns, for each reference tensor in order, the graph value it belongs to.</summary>
    public static Result<IReadOnlyList<string>> Match(IReadOnlyList<ValueSpec> graphValues, IReadOnlyList<ITensorDescription> references, string kind)
    {
        var names = new List<string>();
        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < references.Count; i++)
        {
            var reference = references[i];
            var part = $"{kind}[{i}]";
            ValueSpec? spec = graphValues.FirstOrDefault(v => v.Name == reference.Name);
            if (spec is null && reference.Name.Length > 0 && graphValues.All(v => v.Name != reference.Name) && i >= graphValues.Count)
            {
                errors[part] = [$"is named '{reference.Name}', which is no graph {KindWord(kind)} (the graph's are {List(graphValues)})."];
                continue;
            }
            spec ??= i < graphValues.Count ? graphValues[i] : null;
            if (spec is null)
            {
                errors[part] = [$"is one more than the graph's {graphValues.Count} {KindWord(kind)}s ({List(graphValues)})."];
                continue;
            }
            if (taken.TryGetValue(spec.Name, out var other))
            {
                errors[part] = [$"matches '{spec.Name}', which {kind}[{other}] already provides."];
                continue;
            }
            taken[spec.Name] = i;
            if (Mismatch(spec, reference) is { } problem) errors[part] = [$"does not fit {KindWord(kind)} '{spec.Name}': {problem}."];
            names.Add(spec.Name);
        }
        if (errors.Count > 0)
        {
            var first = errors.First();
            return RegistryError.Invalid("Invalid reference data", $"{first.Key} {first.Value[0]}", errors);
        }
        return Result<IReadOnlyList<string>>.Ok(names);
    }

    /// <summary>Reference inputs must cover every graph input, so that the model can run on them alone.</summary>
    public static RegistryError? CheckInputsComplete(IReadOnlyList<ValueSpec> inputs, IReadOnlyList<string> matched, int outputCount)
    {
        if (matched.Count == 0)
            return outputCount > 0 && inputs.Count > 0
                ? RegistryError.Invalid("Invalid reference data", "Reference outputs were sent without reference inputs; send the inputs they were computed from as reference_input parts.")
                : null;
        var missing = inputs.Select(i => i.Name).Except(matched).ToList();
        return missing.Count == 0 ? null : RegistryError.Invalid("Invalid reference data",
            $"Reference inputs cover {string.Join(", ", matched.Select(n => $"'{n}'"))} but not {string.Join(", ", missing.Select(n => $"'{n}'"))}; send one reference_input per graph input.");
    }

    /// <summary>Declared smoke-test shapes must name graph inputs and agree with their fixed dimensions.</summary>
    public static RegistryError? CheckSmokeShapes(IReadOnlyList<ValueSpec> inputs, IReadOnlyDictionary<string, long[]>? shapes, long maxElements)
    {
        if (shapes is null) return null;
        var errors = new Dictionary<string, string[]>();
        foreach (var (name, dims) in shapes)
        {
            var path = $"smokeTestShapes.{name}";
            var input = inputs.FirstOrDefault(i => i.Name == name);
            if (input is null)
                errors[path] = [$"'{name}' is not a graph input (the inputs are {List(inputs)})."];
            else if (dims.Any(d => d < 1))
                errors[path] = ["Every dimension must be at least 1."];
            else if (input.Shape is { } declared && declared.Count != dims.Length)
                errors[path] = [$"'{name}' has rank {declared.Count} ({input.ShapeText}); the shape given has {dims.Length} dimensions."];
            else if (input.Shape is { } fixedDims && fixedDims.Select((d, i) => (d, i)).FirstOrDefault(x => x.d.Value is { } v && v != dims[x.i]) is { d: not null } clash)
                errors[path] = [$"dimension {clash.i} of '{name}' is fixed at {clash.d.Value} by the model; the shape gives {dims[clash.i]}."];
            else if (OnnxHeaderReader.ElementCount(dims) > maxElements)
                errors[path] = [$"[{string.Join(", ", dims)}] is {OnnxHeaderReader.ElementCount(dims):N0} elements, more than the smoke-test limit of {maxElements:N0}."];
        }
        if (errors.Count == 0) return null;
        var first = errors.First();
        return RegistryError.Invalid("Invalid smoke-test shapes", $"{first.Key}: {first.Value[0]}", errors);
    }

    private static string? Mismatch(ValueSpec spec, ITensorDescription reference)
    {
        if (spec.ElementType is null) return $"it is {spec.Type}, and only tensors are supported as reference data";
        var type = ElementTypes.Name(reference.DataType);
        // ONNX's own test generator writes bfloat16 reference tensors as uint16 bit patterns.
        var sameType = type == spec.ElementType || (spec.ElementType == "bfloat16" && type == "uint16");
        if (!sameType) return $"it is {type}, the model declares {spec.ElementType}";
        if (spec.Shape is not { } shape) return null;
        if (shape.Count != reference.Dims.Length)
            return $"it has shape [{string.Join(", ", reference.Dims)}], rank {reference.Dims.Length}; the model declares {spec.ShapeText}";
        for (var d = 0; d < shape.Count; d++)
            if (shape[d].Value is { } fixedSize && fixedSize != reference.Dims[d])
                return $"dimension {d} is {reference.Dims[d]}; the model fixes it at {fixedSize} ({spec.ShapeText})";
        return null;
    }

    private static string KindWord(string kind) => kind.Contains("output", StringComparison.Ordinal) ? "output" : "input";

    private static string List(IReadOnlyList<ValueSpec> values) =>
        values.Count == 0 ? "none" : string.Join(", ", values.Select(v => $"'{v.Name}'"));
}
