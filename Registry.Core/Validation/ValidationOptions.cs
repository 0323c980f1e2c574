namespace Registry.Core.Validation;

/// <summary>How uploads are validated (configuration section <c>Registry:Validation</c>).</summary>
public sealed class ValidationOptions
{
    public const string Section = "Registry:Validation";

    /// <summary>Whether the background validator runs in this process. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many sandboxes run at once. Default 1: on 2 cores one validation at a time keeps latency figures honest.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Wall-clock limit for one sandbox run, in seconds; past it the process is killed. Default 60.</summary>
    public double TimeoutSeconds { get; set; } = 60;

    /// <summary>Resident memory limit for one sandbox, in MiB; past it the process is killed. Default 2048.</summary>
    public long MemoryLimitMiB { get; set; } = 2048;

    /// <summary>How long a claim on a job lasts without a heartbeat, in seconds. Default 30.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>How often a running job's lease is renewed, in seconds. Default 10.</summary>
    public double HeartbeatSeconds { get; set; } = 10;

    /// <summary>How often an idle worker looks for jobs, in seconds (uploads also wake it at once). Default 2.</summary>
    public double PollSeconds { get; set; } = 2;

    /// <summary>Claims of one job before infrastructure failures (not model failures) make it Failed. Default 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Largest element count of one synthesized input; larger inputs are refused, never allocated. Default 16 M.</summary>
    public long MaxInputElements { get; set; } = 16L * 1024 * 1024;

    /// <summary>Golden comparison: relative tolerance. Default 1e-3.</summary>
    public double RelativeTolerance { get; set; } = 1e-3;

    /// <summary>Golden comparison: absolute tolerance. Default 1e-5.</summary>
    public double AbsoluteTolerance { get; set; } = 1e-5;

    /// <summary>Timed runs after warm-up for the latency figures. Default 20.</summary>
    public int PerformanceRuns { get; set; } = 20;

    /// <summary>
    /// Timed runs made whatever the budget, so that a passed validation always has latency figures. Default 3
    /// (never more than <see cref="PerformanceRuns"/>, never fewer than 1). The sandbox's timeout still bounds them:
    /// a model too slow to be timed this often within it fails the performance check.
    /// </summary>
    public int PerformanceMinRuns { get; set; } = 3;

    /// <summary>Time budget for the timed runs beyond <see cref="PerformanceMinRuns"/>, in seconds; fewer runs are made when it is spent. Default 10.</summary>
    public double PerformanceBudgetSeconds { get; set; } = 10;

    /// <summary>ONNX Runtime intra-op threads in the sandbox. Default 1.</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>The operator domains allowed when <see cref="AllowedDomains"/> names none.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowedDomains = ["ai.onnx", "ai.onnx.ml", "com.microsoft"];

    /// <summary>
    /// Operator domains a model may use; a configured list replaces the default
    /// (<see cref="DefaultAllowedDomains"/>). Empty here, because the configuration binder adds a
    /// configured list to whatever the property starts with, so a default in it could never be
    /// removed.
    /// </summary>
    public List<string> AllowedDomains { get; set; } = [];

    /// <summary>The domains in force: the configured ones, else the default.</summary>
    public IReadOnlyList<string> EffectiveAllowedDomains => AllowedDomains.Count > 0 ? AllowedDomains : DefaultAllowedDomains;

    /// <summary>Most nodes a model may have, subgraphs and functions included. Default 200,000.</summary>
    public int MaxNodes { get; set; } = 200_000;

    /// <summary>Most initializers a model may have. Default 200,000.</summary>
    public int MaxInitializers { get; set; } = 200_000;

    /// <summary>Deepest nesting of subgraphs. Default 16.</summary>
    public int MaxGraphDepth { get; set; } = 16;

    /// <summary>Most parameters (initializer elements). Default 4 billion.</summary>
    public long MaxParameters { get; set; } = 4_000_000_000;

    /// <summary>
    /// How the sandbox is walled off from the server. Default <see cref="SandboxIsolation.Namespaces"/>;
    /// where that cannot be had the validator refuses to run rather than fall back silently, unless
    /// <see cref="SandboxIsolation.Process"/> is set explicitly.
    /// </summary>
    public SandboxIsolation Isolation { get; set; } = SandboxIsolation.Namespaces;

    /// <summary>The bubblewrap program for <see cref="SandboxIsolation.Namespaces"/>; default: <c>bwrap</c> from <c>/usr/bin</c> or <c>/bin</c>.</summary>
    public string? BubblewrapPath { get; set; }

    /// <summary>Path of Registry.Sandbox.dll; default: beside the server's own assemblies.</summary>
    public string? SandboxPath { get; set; }

    public SandboxLimits ToLimits() => new(
        MaxInputElements, RelativeTolerance, AbsoluteTolerance, PerformanceRuns, PerformanceMinRuns, PerformanceBudgetSeconds, IntraOpThreads,
        EffectiveAllowedDomains, new GraphLimits(MaxNodes, MaxInitializers, MaxGraphDepth, MaxParameters), TimeoutSeconds, MemoryLimitMiB);
}
