using Registry.Core.Catalog;

namespace Registry.Core.Promotions;

public enum PromotionStatus
{
    /// <summary>Waiting for its gates to pass or for approvals.</summary>
    Open,
    /// <summary>The version moved to the target stage.</summary>
    Applied,
    /// <summary>An approver said no; closed.</summary>
    Rejected,
    /// <summary>The requester (or an admin) withdrew it; closed.</summary>
    Cancelled,
}

public enum PromotionDecision
{
    Approve,
    Reject,
}

public enum HistoryKind
{
    /// <summary>A version moved from one stage to another.</summary>
    Stage,
    /// <summary>An alias was set, moved or removed.</summary>
    Alias,
}

/// <summary>
/// A request to move a version to a stage. It is applied the moment its gates pass and its
/// approvals reach the policy's count; a rejection or a cancellation closes it.
/// </summary>
public sealed class PromotionRequest
{
    public long Id { get; init; }

    public long ModelId { get; init; }

    public RegisteredModel Model { get; init; } = null!;

    public long VersionId { get; init; }

    public ModelVersion Version { get; init; } = null!;

    /// <summary>The version's stage when the request was opened.</summary>
    public Stage FromStage { get; init; }

    public Stage TargetStage { get; init; }

    public PromotionStatus Status { get; set; }

    /// <summary>How the audit log names the requester ("alice", "ci (key nightly)").</summary>
    public required string RequestedBy { get; init; }

    /// <summary>The requesting account: four eyes compares accounts, so a requester's keys are the requester too.</summary>
    public long RequestedByUserId { get; init; }

    public string? Comment { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ClosedAt { get; set; }

    public string? ClosedBy { get; set; }

    public string? CloseComment { get; set; }

    /// <summary>Approvals the policy asked for at the last evaluation.</summary>
    public int RequiredApprovals { get; set; }

    /// <summary>The gates as last evaluated: at opening, at each approval, and when applied.</summary>
    public List<GateResult> Gates { get; set; } = [];

    public DateTimeOffset EvaluatedAt { get; set; }

    /// <summary>The production version the gates were evaluated against; null when there was none.</summary>
    public int? BaselineVersion { get; set; }

    /// <summary>Set when production changed after the request was opened and the gates were evaluated again.</summary>
    public string? Note { get; set; }

    public List<PromotionVote> Votes { get; init; } = [];
}

/// <summary>One approver's decision on a request. An account decides once per request.</summary>
public sealed class PromotionVote
{
    public long Id { get; init; }

    public long RequestId { get; init; }

    public long UserId { get; init; }

    public required string Actor { get; init; }

    public PromotionDecision Decision { get; init; }

    public string? Comment { get; init; }

    public DateTimeOffset At { get; init; }
}

/// <summary>A named pointer to a version of a model (<c>champion</c>, <c>challenger</c>), set by approvers.</summary>
public sealed class ModelAlias
{
    public long ModelId { get; init; }

    public required string Name { get; init; }

    public long VersionId { get; set; }

    public ModelVersion Version { get; set; } = null!;

    public DateTimeOffset UpdatedAt { get; set; }

    public required string UpdatedBy { get; set; }
}

/// <summary>
/// What happened to a model's stages and aliases, in order: the record that answers "what was in
/// production at time T". Rows are only ever added.
/// </summary>
public sealed class ModelHistoryEntry
{
    public long Id { get; init; }

    public long ModelId { get; init; }

    public HistoryKind Kind { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The version that moved, or that the alias points to after the change; null when an alias was removed.</summary>
    public long? VersionId { get; init; }

    public ModelVersion? Version { get; init; }

    public Stage? FromStage { get; init; }

    public Stage? ToStage { get; init; }

    public string? Alias { get; init; }

    /// <summary>For an alias: the version it pointed to before; null when it was new.</summary>
    public long? PreviousVersionId { get; init; }

    public ModelVersion? PreviousVersion { get; init; }

    public required string Actor { get; init; }

    public string? Reason { get; init; }

    public long? PromotionId { get; init; }
}

/// <summary>A model's own promotion policy; models without one follow the configured default.</summary>
public sealed class ModelPolicy
{
    public long ModelId { get; init; }

    public PromotionPolicy Policy { get; set; } = new();

    public DateTimeOffset UpdatedAt { get; set; }

    public required string UpdatedBy { get; set; }
}
