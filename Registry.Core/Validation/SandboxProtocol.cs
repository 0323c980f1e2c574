using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registry.Core.Validation;

/// <summary>
/// What the server hands the sandbox on standard input: the files to read and the limits to keep.
/// The sandbox gets nothing else: no database, no configuration, no environment of the server.
/// </summary>
public sealed record SandboxJob(
    string ModelPath,
    IReadOnlyList<ReferenceFile> ReferenceInputs,
    IReadOnlyList<ReferenceFile> ReferenceOutputs,
    IReadOnlyDictionary<string, long[]>? SmokeTestShapes,
    SandboxLimits Limits);

/// <summary>A serialized TensorProto for the graph input or output named <see cref="Name"/>.</summary>
public sealed record ReferenceFile(string Name, string Path);

/// <summary>
/// The limits the sandbox keeps. <see cref="PerformanceMinRuns"/> timed runs are always made, whatever
/// the budget; <see cref="PerformanceBudgetSeconds"/> and the time left before <see cref="TimeoutSeconds"/>
/// only cap the runs beyond them, up to <see cref="PerformanceRuns"/>.
/// </summary>
public sealed record SandboxLimits(
    long MaxInputElements,
    double RelativeTolerance,
    double AbsoluteTolerance,
    int PerformanceRuns,
    int PerformanceMinRuns,
    double PerformanceBudgetSeconds,
    int IntraOpThreads,
    IReadOnlyList<string> AllowedDomains,
    GraphLimits Graph,
    double TimeoutSeconds,
    long MemoryLimitMiB = 0);

/// <summary>Structural bounds a model must stay within before ONNX Runtime is allowed to see it.</summary>
public sealed record GraphLimits(int MaxNodes, int MaxInitializers, int MaxGraphDepth, long MaxParameters);

/// <summary>
/// One line of the sandbox's output (newline-delimited JSON). <c>stage</c> announces the check
/// about to run, so that a crash or a kill can be attributed to it; <c>check</c> carries a result;
/// <c>figures</c> the performance numbers; <c>done</c> ends a complete report.
/// </summary>
public sealed record SandboxMessage(
    string Type,
    string? Stage = null,
    CheckResult? Check = null,
    PerformanceFigures? Figures = null,
    string? Runtime = null)
{
    public const string StageType = "stage";
    public const string CheckType = "check";
    public const string FiguresType = "figures";
    public const string DoneType = "done";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A figure can be NaN (an error that could not be computed); it must never break the report.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>The checks, in the order the sandbox runs them.</summary>
public static class CheckNames
{
    public const string Format = "format";
    public const string Security = "security";
    public const string Load = "load";
    public const string Smoke = "smoke";
    public const string Finite = "finite";
    public const string Golden = "golden";
    public const string Performance = "performance";

    public static readonly IReadOnlyList<string> All = [Format, Security, Load, Smoke, Finite, Golden, Performance];
}
