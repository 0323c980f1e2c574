namespace Registry.Core.Auditing;

/// <summary>An append-only record of one change of state: who, when, what, before → after.</summary>
public sealed class AuditEvent
{
    public long Id { get; init; }

    public DateTimeOffset At { get; init; }

    public required string Actor { get; init; }

    /// <summary>A dotted verb: <c>model.created</c>, <c>version.created</c>, <c>metrics.logged</c>.</summary>
    public required string Action { get; init; }

    /// <summary>What changed: <c>model:fraud-detector</c>, <c>version:fraud-detector/3</c>.</summary>
    public required string Target { get; init; }

    /// <summary>The state before the change, as JSON; null for creations.</summary>
    public string? Before { get; init; }

    /// <summary>The state after the change, as JSON.</summary>
    public string? After { get; init; }
}
