using Registry.Core.Catalog;

namespace Registry.Core.Promotions;

// What the registry shows of promotions, stages and aliases, to the API and the UI alike.

/// <summary>A promotion request with its gates as last evaluated and its votes.</summary>
public sealed record PromotionView(
    long Id,
    string Model,
    int Version,
    Stage FromStage,
    Stage TargetStage,
    PromotionStatus Status,
    string RequestedBy,
    string? Comment,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt,
    string? ClosedBy,
    string? CloseComment,
    int RequiredApprovals,
    int Approvals,
    IReadOnlyList<VoteView> Votes,
    IReadOnlyList<GateResult> Gates,
    bool GatesPassed,
    DateTimeOffset EvaluatedAt,
    int? BaselineVersion,
    string? Note);

public sealed record VoteView(string Actor, PromotionDecision Decision, string? Comment, DateTimeOffset At);

/// <summary>What a request for this move would be checked against now, before it is made.</summary>
public sealed record GatePreview(
    string Model,
    int Version,
    Stage FromStage,
    Stage TargetStage,
    IReadOnlyList<Stage> AllowedMoves,
    int RequiredApprovals,
    IReadOnlyList<GateResult> Gates,
    bool GatesPassed,
    int? BaselineVersion);

/// <summary>
/// What an approver weighs, side by side with the current production version: validation, metrics
/// with deltas, the signature diff, and the gates as they stand now.
/// </summary>
public sealed record PromotionEvidence(
    PromotionView Request,
    EvidenceSide Candidate,
    EvidenceSide? Production,
    IReadOnlyList<MetricComparison> Metrics,
    SignatureComparison? Signature,
    IReadOnlyList<GateResult> GatesNow,
    bool GatesPassNow,
    int RequiredApprovalsNow);

public sealed record EvidenceSide(
    int Version,
    Stage Stage,
    ValidationStatus Validation,
    string? ValidationSummary,
    string Sha256,
    DateTimeOffset CreatedAt,
    string CreatedBy);

/// <summary>One metric on both sides; a missing side is null. <see cref="System"/> marks the validator's measurements.</summary>
public sealed record MetricComparison(string Key, string? Dataset, double? Candidate, double? Production, double? Delta, bool System);

/// <summary>
/// The version a stage or an alias points to (now, or at a past instant), for services: what to
/// download (<see cref="Model"/>, <see cref="Version"/>, <see cref="Sha256"/>) and since when. Not
/// sealed: the web layer adds the download link.
/// </summary>
public record ResolvedVersion(
    string Model,
    string Name,
    int Version,
    string Sha256,
    long SizeBytes,
    DateTimeOffset Since,
    string By,
    string? Reason,
    [property: System.Text.Json.Serialization.JsonIgnore] long HistoryEntry)
{
    /// <summary>
    /// Changes whenever the stage or alias is moved, even back to a version it pointed to before
    /// (the history entry is part of it); what pollers send back in If-None-Match.
    /// </summary>
    public string ETag => $"\"v{Version}-{Sha256[..16]}-{HistoryEntry}\"";
}

public sealed record AliasView(string Alias, int Version, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>One line of a model's timeline: a stage move or an alias change.</summary>
public sealed record HistoryView(
    long Id,
    DateTimeOffset At,
    HistoryKind Kind,
    int? Version,
    Stage? FromStage,
    Stage? ToStage,
    string? Alias,
    int? PreviousVersion,
    string Actor,
    string? Reason,
    long? PromotionId);

public sealed record SignatureDiffView(string Model, int Version, int Against, bool Compatible, IReadOnlyList<SignatureDifference> Differences);

public sealed record PolicyView(string Model, PromotionPolicy Policy, bool IsDefault, DateTimeOffset? UpdatedAt, string? UpdatedBy);

// What clients send. Every field is nullable so that a missing one is reported with a message.

public sealed record PromotionRequestInput
{
    /// <summary>Staging, Production or Archived.</summary>
    public string? TargetStage { get; init; }
    public string? Comment { get; init; }
}

public sealed record DecisionInput
{
    public string? Comment { get; init; }
}

public sealed record AliasInput
{
    public int? Version { get; init; }
    public string? Comment { get; init; }
}
