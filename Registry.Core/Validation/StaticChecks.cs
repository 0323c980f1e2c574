using System.Diagnostics;
using System.Globalization;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;

namespace Registry.Core.Validation;

/// <summary>What a runtime accepts: its name and version, the newest IR version and the newest opset per domain.</summary>
public sealed record RuntimeSupport(string Runtime, long MaxIrVersion, IReadOnlyDictionary<string, long> MaxOpsets)
{
    public string Describe() =>
        $"IR ≤ {MaxIrVersion}; " + string.Join(", ", MaxOpsets.Select(o => $"{o.Key} ≤ {o.Value}"));
}

/// <summary>
/// The checks that read only the model's header: <c>format</c> and <c>security</c>. They run before
/// ONNX Runtime sees the file, so a hostile file is refused without being loaded.
/// </summary>
public static class StaticChecks
{
    private const string MemoryAddressMarker = "_ORT_MEM_ADDR_";

    /// <summary>The file parses as an ONNX model, has a graph, and its IR version and opsets are ones the runtime supports.</summary>
    public static (CheckResult Result, ModelHeader? Model) Format(string modelPath, RuntimeSupport support)
    {
        var clock = Stopwatch.StartNew();
        Result<ModelHeader> parsed;
        using (var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            parsed = OnnxHeaderReader.ReadHeader(file);
        if (!parsed.IsSuccess)
            return (Result(CheckNames.Format, CheckStatus.Failed, parsed.Error!.Detail, clock), null);

        var model = parsed.Value;
        var problems = new List<string>();
        if (model.IrVersion > support.MaxIrVersion)
            problems.Add($"IR version {model.IrVersion} is newer than {support.Runtime} supports (≤ {support.MaxIrVersion})");
        foreach (var opset in model.OpsetImport)
        {
            var domain = OnnxHeaderReader.NormalizeDomain(opset.Domain);
            if (support.MaxOpsets.TryGetValue(domain, out var max) && opset.Version > max)
                problems.Add($"opset {domain} {opset.Version} is newer than {support.Runtime} supports (≤ {max})");
            if (opset.Version < 1)
                problems.Add($"opset {domain} {opset.Version} is not a valid version");
        }

        var declared = string.Join(", ", model.OpsetImport.Select(o => $"{OnnxHeaderReader.NormalizeDomain(o.Domain)} {o.Version}"));
        return problems.Count == 0
            ? (Result(CheckNames.Format, CheckStatus.Passed,
                $"IR version {model.IrVersion} and opsets {declared} are supported by {support.Runtime} ({support.Describe()}).", clock), model)
            : (Result(CheckNames.Format, CheckStatus.Failed, Capitalize(string.Join("; ", problems)) + $". Re-export the model for {support.Runtime} ({support.Describe()}).", clock), model);
    }

    /// <summary>No external data, only allowed operator domains, and a graph of sane size.</summary>
    public static CheckResult Security(ModelHeader model, SandboxLimits limits)
    {
        var clock = Stopwatch.StartNew();
        var problems = new List<string>();

        foreach (var tensor in OnnxWalker.Tensors(model))
        {
            var location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
            if (tensor.DataLocation != 1 && tensor.ExternalData.Count == 0) continue;
            problems.Add(location switch
            {
                null => $"tensor '{tensor.Name}' says its data is external but names no file",
                _ when location.Contains(MemoryAddressMarker, StringComparison.Ordinal) =>
                    $"tensor '{tensor.Name}' points at process memory ({MemoryAddressMarker}), which is never allowed",
                _ when IsAbsolute(location) => $"tensor '{tensor.Name}' reads external data from the absolute path '{location}'",
                _ when location.Replace('\\', '/').Split('/').Contains("..") =>
                    $"tensor '{tensor.Name}' reads external data from '{location}', outside the model's folder",
                _ => $"tensor '{tensor.Name}' keeps its data in the external file '{location}', but an upload is a single file: save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))",
            });
        }

        var allowed = new HashSet<string>(limits.AllowedDomains, StringComparer.Ordinal);
        var localFunctions = new HashSet<(string, string)>(model.Functions.Select(f => (OnnxHeaderReader.NormalizeDomain(f.Domain), f.Name)));
        var nodes = 0;
        var maxDepth = 0;
        foreach (var (node, depth) in OnnxWalker.Nodes(model))
        {
            nodes++;
            maxDepth = Math.Max(maxDepth, depth);
            var domain = OnnxHeaderReader.NormalizeDomain(node.Domain);
            if (!allowed.Contains(domain) && !localFunctions.Contains((domain, node.OpType)) && problems.Count < 20)
                problems.Add($"operator {node.OpType} comes from domain '{domain}', which is not allowed (allowed: {string.Join(", ", limits.AllowedDomains)})");
        }

        var initializers = model.Graph.Initializer.Count + model.Graph.SparseInitializer.Count;
        var parameters = OnnxHeaderReader.SignatureOf(model).ParameterCount;
        var g = limits.Graph;
        if (nodes > g.MaxNodes) problems.Add($"the model has {nodes:N0} nodes, more than the limit of {g.MaxNodes:N0}");
        if (initializers > g.MaxInitializers) problems.Add($"the model has {initializers:N0} initializers, more than the limit of {g.MaxInitializers:N0}");
        if (maxDepth > g.MaxGraphDepth) problems.Add($"subgraphs nest {maxDepth} deep, more than the limit of {g.MaxGraphDepth}");
        if (parameters > g.MaxParameters) problems.Add($"the model has {parameters:N0} parameters, more than the limit of {g.MaxParameters:N0}");

        if (problems.Count == 0)
            return Result(CheckNames.Security, CheckStatus.Passed,
                $"No external data; {nodes:N0} node{(nodes == 1 ? "" : "s")} from allowed domains; subgraph depth {maxDepth}.", clock);
        var more = problems.Count > 1 ? $" ({problems.Count - 1} more problem{(problems.Count > 2 ? "s" : "")}: {string.Join("; ", problems.Skip(1).Take(3))})" : "";
        return Result(CheckNames.Security, CheckStatus.Failed, Capitalize(problems[0]) + "." + more, clock);
    }

    private static bool IsAbsolute(string path) =>
        path.StartsWith('/') || path.StartsWith('\\') || (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':');

    internal static CheckResult Result(string name, CheckStatus status, string message, Stopwatch clock) =>
        new(name, status, message, Math.Round(clock.Elapsed.TotalMilliseconds, 3));

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpper(s[0], CultureInfo.InvariantCulture) + s[1..];
}
