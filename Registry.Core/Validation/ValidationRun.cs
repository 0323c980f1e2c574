using Registry.Core.Catalog;

namespace Registry.Core.Validation;

/// <summary>
/// One validation of one version, and the queue entry for it: <c>Pending</c> until a worker claims
/// it with a lease, <c>Running</c> while the lease is held and renewed, then <c>Passed</c> or
/// <c>Failed</c>. A re-validation is a new run; a version's status is that of its latest run.
/// </summary>
public sealed class ValidationRun
{
    public long Id { get; init; }

    public long VersionId { get; init; }

    public ModelVersion Version { get; init; } = null!;

    public ValidationStatus Status { get; set; }

    /// <summary>How many times a worker has claimed the run; bounded for infrastructure failures.</summary>
    public int Attempts { get; set; }

    /// <summary>Identifies the current claim; a result carrying another token is a stale lease's and is rejected.</summary>
    public Guid? LeaseToken { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    public DateTimeOffset QueuedAt { get; init; }

    public required string RequestedBy { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The verdict in one sentence: what failed, or that all checks passed.</summary>
    public string? Summary { get; set; }

    public List<CheckResult> Checks { get; set; } = [];

    public PerformanceFigures? Figures { get; set; }

    /// <summary>The ONNX Runtime that ran the checks, such as <c>onnxruntime 1.31.1</c>.</summary>
    public string? Runtime { get; set; }

    /// <summary>The walls the sandbox ran in, such as <c>namespaces (bubblewrap 0.8.0)</c> or <c>process (…)</c>.</summary>
    public string? Isolation { get; set; }
}

public enum CheckStatus
{
    Passed,
    Warning,
    Failed,
    Skipped,
}

/// <summary>The outcome of one check, as the sandbox reports it and the API shows it.</summary>
public sealed record CheckResult(
    string Name,
    CheckStatus Status,
    string Message,
    double DurationMs,
    IReadOnlyDictionary<string, double>? Figures = null);

/// <summary>Timings and memory measured by the performance check.</summary>
public sealed record PerformanceFigures(
    double LoadMs,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    int Runs,
    long PeakRssBytes);
