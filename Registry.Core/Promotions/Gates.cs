using System.Globalization;
using Registry.Core.Catalog;
using Registry.Core.Onnx;
using Registry.Core.Validation;

namespace Registry.Core.Promotions;

public enum GateStatus
{
    Passed,
    Failed,
    /// <summary>The gate does not apply to this move (no production version to compare with, say).</summary>
    NotApplicable,
}

/// <summary>What one gate checked, with the numbers it compared, so that an approver sees exactly that.</summary>
public sealed record GateResult(
    string Gate,
    GateStatus Status,
    string Message,
    double? Candidate = null,
    double? Baseline = null,
    double? Threshold = null);

/// <summary>What the gates need to know about a version.</summary>
public sealed record VersionFacts(
    long Id,
    int Number,
    Stage Stage,
    ModelSignature Signature,
    ValidationStatus? LatestValidation,
    IReadOnlyList<CheckResult> Checks,
    IReadOnlyDictionary<MetricKey, double> Metrics)
{
    public double? Metric(string key, string? dataset) => Metrics.TryGetValue(new MetricKey(key, dataset), out var v) ? v : null;
}

/// <summary>A metric's name and dataset (null: no dataset).</summary>
public readonly record struct MetricKey(string Key, string? Dataset);

/// <summary>
/// The gates of a move. Pure: given the facts of the candidate and of the current production
/// version, and the policy, it says what passes. Every move checks that it exists; moves to Staging
/// and Production need a passed validation; moves to Production also get the policy's signature,
/// metric and latency gates.
/// </summary>
public static class Gates
{
    public const string Move = "stage move";
    public const string Validation = "validation";
    public const string Signature = "signature";
    public const string Latency = "latency";

    public static IReadOnlyList<GateResult> Evaluate(string model, VersionFacts candidate, VersionFacts? production, Stage target, PromotionPolicy policy)
    {
        var what = $"{model} v{candidate.Number}";
        var results = new List<GateResult>();

        var move = VersionLifecycle.CheckMove(what, candidate.Stage, target);
        results.Add(move is null
            ? new GateResult(Move, GateStatus.Passed, $"{candidate.Stage} → {target} is an allowed move.")
            : new GateResult(Move, GateStatus.Failed, move.Detail));

        if (VersionLifecycle.NeedsPassedValidation(target))
        {
            var blocker = VersionLifecycle.ValidationBlocker(what, candidate.LatestValidation, candidate.Checks);
            results.Add(blocker is null
                ? new GateResult(Validation, GateStatus.Passed, "The latest validation passed.")
                : new GateResult(Validation, GateStatus.Failed, blocker));
        }
        else
        {
            results.Add(new GateResult(Validation, GateStatus.NotApplicable, $"A move to {target} does not need a passed validation."));
        }

        if (target != Stage.Production)
        {
            results.Add(new GateResult(Signature, GateStatus.NotApplicable, $"Signature, metric and latency gates guard moves to Production, not to {target}."));
            return results;
        }

        // Against what would be replaced: the current production version (never the candidate itself).
        var baseline = production is not null && production.Id != candidate.Id ? production : null;
        results.Add(SignatureGate(candidate, baseline, policy));
        foreach (var rule in policy.MetricRules) results.AddRange(MetricGates(candidate, baseline, rule));
        if (policy.Latency is { } latency) results.AddRange(LatencyGates(candidate, baseline, latency));
        return results;
    }

    public static bool AllPass(IEnumerable<GateResult> gates) => gates.All(g => g.Status != GateStatus.Failed);

    private static GateResult SignatureGate(VersionFacts candidate, VersionFacts? baseline, PromotionPolicy policy)
    {
        if (!policy.RequireCompatibleSignature)
            return new GateResult(Signature, GateStatus.NotApplicable, "The policy does not require a compatible signature.");
        if (baseline is null)
            return new GateResult(Signature, GateStatus.NotApplicable, "There is no production version to be compatible with.");
        var comparison = SignatureDiff.Compare(candidate.Signature, baseline.Signature);
        var breaking = comparison.Breaking.ToList();
        if (breaking.Count > 0)
            return new GateResult(Signature, GateStatus.Failed,
                $"{breaking.Count} breaking difference{(breaking.Count == 1 ? "" : "s")} from production v{baseline.Number}: {string.Join(" ", breaking.Select(d => d.Message))}");
        return new GateResult(Signature, GateStatus.Passed, comparison.Differences.Count == 0
            ? $"Same inputs and outputs as production v{baseline.Number}."
            : $"Compatible with production v{baseline.Number} ({comparison.Differences.Count} difference{(comparison.Differences.Count == 1 ? "" : "s")}, none breaking).");
    }

    private static IEnumerable<GateResult> MetricGates(VersionFacts candidate, VersionFacts? baseline, MetricRule rule)
    {
        var name = rule.Describe();
        var value = candidate.Metric(rule.Metric!, rule.Dataset);
        if (value is null)
        {
            yield return new GateResult($"metric {name}", GateStatus.Failed,
                $"v{candidate.Number} has no '{name}' metric; log it on the version so the rule can be checked.");
            yield break;
        }
        if (rule.Min is { } min)
            yield return value >= min
                ? new GateResult($"metric {name} ≥ {N(min)}", GateStatus.Passed, $"{name} is {N(value.Value)}, at least the minimum {N(min)}.", value, null, min)
                : new GateResult($"metric {name} ≥ {N(min)}", GateStatus.Failed, $"{name} is {N(value.Value)}, below the minimum {N(min)}.", value, null, min);
        if (rule.Max is { } max)
            yield return value <= max
                ? new GateResult($"metric {name} ≤ {N(max)}", GateStatus.Passed, $"{name} is {N(value.Value)}, at most the maximum {N(max)}.", value, null, max)
                : new GateResult($"metric {name} ≤ {N(max)}", GateStatus.Failed, $"{name} is {N(value.Value)}, above the maximum {N(max)}.", value, null, max);
        if (rule.Rule == MetricRule.NotWorseThanProduction)
        {
            var tolerance = rule.Tolerance ?? 0;
            var higher = rule.HigherIsBetter ?? true;
            var gate = $"metric {name} not worse than production";
            var production = baseline?.Metric(rule.Metric!, rule.Dataset);
            if (baseline is null)
            {
                yield return new GateResult(gate, GateStatus.NotApplicable, "There is no production version to compare with.", value);
                yield break;
            }
            if (production is null)
            {
                yield return new GateResult(gate, GateStatus.NotApplicable,
                    $"Production v{baseline.Number} has no '{name}' metric to compare with.", value);
                yield break;
            }
            var threshold = higher ? production.Value - tolerance : production.Value + tolerance;
            var ok = higher ? value >= threshold : value <= threshold;
            var delta = value.Value - production.Value;
            var comparison = $"{name} is {N(value.Value)} against production v{baseline.Number}'s {N(production.Value)} (Δ {Signed(delta)}; " +
                $"{(higher ? "higher" : "lower")} is better, tolerance {N(tolerance)})";
            yield return new GateResult(gate, ok ? GateStatus.Passed : GateStatus.Failed,
                ok ? comparison + "." : comparison + $": worse than the allowed {N(threshold)}.", value, production, threshold);
        }
    }

    private static IEnumerable<GateResult> LatencyGates(VersionFacts candidate, VersionFacts? baseline, LatencyRule rule)
    {
        var key = rule.MetricKey;
        var percentile = rule.Percentile ?? "p95";
        var value = candidate.Metric(key, null);
        if (value is null)
        {
            yield return new GateResult(Latency, GateStatus.Failed,
                $"v{candidate.Number} has no measured {percentile} latency; its validation must run the performance check.");
            yield break;
        }
        if (rule.MaxMs is { } maxMs)
            yield return value <= maxMs
                ? new GateResult($"{Latency} {percentile} ≤ {N(maxMs)} ms", GateStatus.Passed, $"{percentile} latency is {N(value.Value)} ms, within {N(maxMs)} ms.", value, null, maxMs)
                : new GateResult($"{Latency} {percentile} ≤ {N(maxMs)} ms", GateStatus.Failed, $"{percentile} latency is {N(value.Value)} ms, over the budget of {N(maxMs)} ms.", value, null, maxMs);
        if (rule.MaxRatio is { } ratio)
        {
            var gate = $"{Latency} {percentile} ≤ {N(ratio)} × production";
            var production = baseline?.Metric(key, null);
            if (baseline is null || production is null)
            {
                yield return new GateResult(gate, GateStatus.NotApplicable, baseline is null
                    ? "There is no production version to compare with."
                    : $"Production v{baseline.Number} has no measured {percentile} latency.", value);
                yield break;
            }
            var threshold = ratio * production.Value;
            var ok = value <= threshold;
            var text = $"{percentile} latency is {N(value.Value)} ms against production v{baseline.Number}'s {N(production.Value)} ms " +
                $"(× {N(production.Value > 0 ? value.Value / production.Value : double.PositiveInfinity)}; allowed × {N(ratio)} = {N(threshold)} ms)";
            yield return new GateResult(gate, ok ? GateStatus.Passed : GateStatus.Failed, text + ".", value, production, threshold);
        }
    }

    internal static string N(double v) => double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : "∞";

    private static string Signed(double v) => (v >= 0 ? "+" : "−") + N(Math.Abs(v));
}
