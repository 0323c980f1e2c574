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

    /// <summary>The network address the request came from, when there was a request.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The <see cref="Hash"/> of the event before this one (all zeros for the first).</summary>
    public string PreviousHash { get; set; } = "";

    /// <summary>SHA-256 of the previous hash and this event's canonical content: altering or removing any event breaks the chain after it.</summary>
    public string Hash { get; set; } = "";
}
