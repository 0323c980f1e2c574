using FluentValidation;
using Microsoft.Extensions.Options;
using Registry.Core.Catalog;

namespace Registry.Core.Promotions;

/// <summary>
/// What a promotion must pass, per model: how many approvals each target stage needs, and the gates
/// a move to production is held to. Validation must always have passed; that is not a choice.
/// </summary>
public sealed record PromotionPolicy
{
    /// <summary>Approvals (by people other than the requester) each target stage needs.</summary>
    public ApprovalCounts RequiredApprovals { get; init; } = new();

    /// <summary>A version whose signature would break callers of the current production version may not replace it.</summary>
    public bool RequireCompatibleSignature { get; init; } = true;

    /// <summary>Rules on the candidate's metrics, absolute or relative to production.</summary>
    public List<MetricRule> MetricRules { get; init; } = [];

    /// <summary>A budget on measured latency, absolute or relative to production; none when null.</summary>
    public LatencyRule? Latency { get; init; }

    public int ApprovalsFor(Stage target) => target switch
    {
        Stage.Staging => RequiredApprovals.Staging ?? 0,
        Stage.Production => RequiredApprovals.Production ?? 1,
        Stage.Archived => RequiredApprovals.Archived ?? 0,
        _ => 0,
    };
}

public sealed record ApprovalCounts
{
    public int? Staging { get; init; } = 0;
    public int? Production { get; init; } = 1;
    public int? Archived { get; init; } = 0;
}

/// <summary>
/// A rule on one metric (optionally on one dataset): a minimum, a maximum, or
/// <c>not-worse-than-production</c> within a tolerance. <see cref="HigherIsBetter"/> says which way
/// "worse" is (false for a loss or an error rate).
/// </summary>
public sealed record MetricRule
{
    public const string NotWorseThanProduction = "not-worse-than-production";

    public string? Metric { get; init; }
    public string? Dataset { get; init; }
    public string? Rule { get; init; }
    public double? Tolerance { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public bool? HigherIsBetter { get; init; }

    /// <summary>"auc" or "auc on holdout", as messages name it.</summary>
    public string Describe() => Dataset is null ? Metric ?? "" : $"{Metric} on {Dataset}";
}

/// <summary>
/// A latency budget on the validator's measurement at a percentile (<c>p50</c>, <c>p95</c>,
/// <c>p99</c>): at most <see cref="MaxRatio"/> times production's, and/or at most <see cref="MaxMs"/>.
/// </summary>
public sealed record LatencyRule
{
    public string? Percentile { get; init; } = "p95";
    public double? MaxRatio { get; init; }
    public double? MaxMs { get; init; }

    public string MetricKey => $"latency_{Percentile ?? "p95"}_ms";
}

/// <summary>The <c>Registry:Promotion</c> section: the policy of models that have none of their own.</summary>
public sealed class PromotionOptions
{
    public const string Section = "Registry:Promotion";

    /// <summary>Defaults: 0 approvals to Staging, 1 to Production, 0 to Archived; signature compatibility on.</summary>
    public PromotionPolicy DefaultPolicy { get; set; } = new();

    /// <summary>How often open requests are looked at again even without news (a validation finished in another process, say).</summary>
    public double SweepSeconds { get; set; } = 30;
}

public sealed class PromotionPolicyValidator : AbstractValidator<PromotionPolicy>
{
    public const int MaxApprovals = 10;
    public const int MaxRules = 50;
    private static readonly string[] Percentiles = ["p50", "p95", "p99"];

    public PromotionPolicyValidator()
    {
        RuleFor(p => p.RequiredApprovals).NotNull().WithMessage("requiredApprovals is needed: {\"staging\": 0, \"production\": 1, \"archived\": 0}.");
        RuleFor(p => p.RequiredApprovals.Staging).InclusiveBetween(0, MaxApprovals).When(p => p.RequiredApprovals is not null)
            .WithMessage($"Required approvals are between 0 and {MaxApprovals}.");
        // Four eyes on production is not a policy choice: a version enters (or leaves) production only
        // with the approval of someone other than its requester.
        RuleFor(p => p.RequiredApprovals.Production).InclusiveBetween(1, MaxApprovals).When(p => p.RequiredApprovals is not null)
            .WithMessage($"A move to production needs between 1 and {MaxApprovals} approvals: someone other than the requester always approves it.");
        RuleFor(p => p.RequiredApprovals.Archived).InclusiveBetween(0, MaxApprovals).When(p => p.RequiredApprovals is not null)
            .WithMessage($"Required approvals are between 0 and {MaxApprovals}.");
        RuleFor(p => p.MetricRules).NotNull().WithMessage("metricRules is a list; send [] for none.")
            .Must(r => r is null || r.Count <= MaxRules).WithMessage($"At most {MaxRules} metric rules.");
        RuleForEach(p => p.MetricRules).NotNull().WithMessage("A metric rule is an object, such as {\"metric\": \"auc\", \"min\": 0.9}.");
        RuleForEach(p => p.MetricRules).ChildRules(rule =>
        {
            rule.RuleFor(r => r.Metric).NotEmpty().WithMessage("A metric rule names its metric, such as \"auc\".")
                .MetricName("metric key");
            rule.RuleFor(r => r.Dataset).MetricName("dataset name").When(r => r.Dataset is not null);
            rule.RuleFor(r => r).Must(r => r.Rule is not null || r.Min is not null || r.Max is not null)
                .OverridePropertyName("rule")
                .WithMessage(r => $"The rule on '{r.Describe()}' says nothing: give min, max, or rule \"{MetricRule.NotWorseThanProduction}\" with a tolerance.");
            rule.RuleFor(r => r.Rule).Equal(MetricRule.NotWorseThanProduction).When(r => r.Rule is not null)
                .WithMessage((_, v) => $"Unknown rule '{v}'; the one relative rule is \"{MetricRule.NotWorseThanProduction}\" (use min or max for thresholds).");
            rule.RuleFor(r => r.Tolerance).Must(t => t is null || (double.IsFinite(t.Value) && t >= 0))
                .WithMessage("A tolerance is a finite number, 0 or more.");
            rule.RuleFor(r => r.Tolerance).Null().When(r => r.Rule is null)
                .WithMessage("A tolerance goes with rule \"not-worse-than-production\".");
            rule.RuleFor(r => r.Min).Must(v => v is null || double.IsFinite(v.Value)).WithMessage("min is a finite number.");
            rule.RuleFor(r => r.Max).Must(v => v is null || double.IsFinite(v.Value)).WithMessage("max is a finite number.");
            rule.RuleFor(r => r).Must(r => r.Min is null || r.Max is null || r.Min <= r.Max).OverridePropertyName("max")
                .WithMessage(r => $"min ({r.Min}) is above max ({r.Max}) for '{r.Describe()}': no value could pass.");
        });
        RuleFor(p => p.Latency!).ChildRules(latency =>
        {
            latency.RuleFor(l => l.Percentile).Must(p => p is null || Percentiles.Contains(p))
                .WithMessage((_, p) => $"Latency percentile '{p}' is not measured; use p50, p95 or p99.");
            latency.RuleFor(l => l).Must(l => l.MaxRatio is not null || l.MaxMs is not null).OverridePropertyName("maxRatio")
                .WithMessage("A latency rule gives maxRatio (times production's) or maxMs, or both.");
            latency.RuleFor(l => l.MaxRatio).Must(r => r is null || (double.IsFinite(r.Value) && r > 0))
                .WithMessage("maxRatio is a positive number, such as 1.2 for \"at most 20% slower than production\".");
            latency.RuleFor(l => l.MaxMs).Must(r => r is null || (double.IsFinite(r.Value) && r > 0))
                .WithMessage("maxMs is a positive number of milliseconds.");
        }).When(p => p.Latency is not null);
    }
}

/// <summary>Refuses to start with a default policy that could not be saved through the API, naming what is wrong.</summary>
internal sealed class PromotionOptionsValidation : IValidateOptions<PromotionOptions>
{
    public ValidateOptionsResult Validate(string? name, PromotionOptions options)
    {
        var result = new PromotionPolicyValidator().Validate(options.DefaultPolicy);
        return result.IsValid
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(result.Errors.Select(e => $"{PromotionOptions.Section}:DefaultPolicy: {e.ErrorMessage}"));
    }
}
