using Microsoft.EntityFrameworkCore;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Promotions;

/// <summary>The gates of one move as evaluated against the database as it stands.</summary>
internal sealed record Evaluation(VersionFacts Candidate, VersionFacts? Production, IReadOnlyList<GateResult> Gates, int RequiredApprovals)
{
    public bool GatesPass => Promotions.Gates.AllPass(Gates);

    /// <summary>The production version the candidate is compared with; null when none (or when it is the candidate).</summary>
    public int? BaselineVersion => Production is { } p && p.Id != Candidate.Id ? p.Number : null;
}

/// <summary>Reads what the gates need, inside whatever transaction the caller holds.</summary>
internal static class PromotionFacts
{
    public static async Task<VersionFacts> LoadAsync(RegistryDbContext db, long versionId, CancellationToken ct)
    {
        var v = await db.Versions.AsNoTracking().Where(x => x.Id == versionId)
            .Select(x => new { x.Id, x.Number, x.Stage, x.Signature }).SingleAsync(ct);
        var run = await db.ValidationRuns.AsNoTracking().Where(r => r.VersionId == versionId).OrderByDescending(r => r.Id)
            .Select(r => new { r.Status, r.Checks }).FirstOrDefaultAsync(ct);
        var metrics = await db.Metrics.AsNoTracking().Where(m => m.VersionId == versionId)
            .Select(m => new { m.Id, m.Key, m.Dataset, m.Value, m.LoggedAt }).ToListAsync(ct);
        // A metric logged again replaces the earlier value.
        var latest = metrics.OrderBy(m => m.LoggedAt).ThenBy(m => m.Id)
            .GroupBy(m => new MetricKey(m.Key, m.Dataset))
            .ToDictionary(g => g.Key, g => g.Last().Value);
        return new VersionFacts(v.Id, v.Number, v.Stage, v.Signature, run?.Status, run?.Checks ?? [], latest);
    }

    public static Task<long?> ProductionIdAsync(RegistryDbContext db, long modelId, CancellationToken ct) =>
        db.Versions.AsNoTracking().Where(v => v.ModelId == modelId && v.Stage == Stage.Production).Select(v => (long?)v.Id).SingleOrDefaultAsync(ct);

    public static async Task<PromotionPolicy> PolicyAsync(RegistryDbContext db, long modelId, PromotionPolicy fallback, CancellationToken ct) =>
        await db.ModelPolicies.AsNoTracking().Where(p => p.ModelId == modelId).Select(p => p.Policy).SingleOrDefaultAsync(ct) ?? fallback;

    /// <summary>A rule that does not say which way is better follows the metric key's configured direction (Registry:Metrics).</summary>
    public static PromotionPolicy WithDirections(PromotionPolicy policy, Comparison.MetricDirections directions) => policy with
    {
        MetricRules = policy.MetricRules.Select(r => r.HigherIsBetter is null && r.Metric is not null
            ? r with { HigherIsBetter = directions.Of(r.Metric) == Comparison.MetricDirection.HigherIsBetter }
            : r).ToList(),
    };

    /// <summary>
    /// Approvals a move needs: the policy's count for the target, and never fewer than a move to
    /// production needs when the version leaves production (taking production down is as weighty
    /// as putting a version up).
    /// </summary>
    public static int RequiredApprovals(PromotionPolicy policy, Stage from, Stage target) =>
        Math.Max(policy.ApprovalsFor(target), from == Stage.Production ? policy.ApprovalsFor(Stage.Production) : 0);

    public static async Task<Evaluation> EvaluateAsync(RegistryDbContext db, string model, long modelId, long candidateId, Stage target,
        PromotionPolicy fallback, Comparison.MetricDirections directions, CancellationToken ct)
    {
        var candidate = await LoadAsync(db, candidateId, ct);
        var productionId = await ProductionIdAsync(db, modelId, ct);
        var production = productionId switch
        {
            null => null,
            var id when id == candidateId => candidate,
            { } id => await LoadAsync(db, id, ct),
        };
        var policy = WithDirections(await PolicyAsync(db, modelId, fallback, ct), directions);
        return new Evaluation(candidate, production, Gates.Evaluate(model, candidate, production, target, policy),
            RequiredApprovals(policy, candidate.Stage, target));
    }

    /// <summary>
    /// Approvals that count now: from people who are still enabled approvers. A vote cast by someone
    /// since demoted or disabled stays on record but no longer carries a promotion.
    /// </summary>
    public static async Task<int> CountingApprovalsAsync(RegistryDbContext db, PromotionRequest request, CancellationToken ct)
    {
        var voters = request.Votes.Where(v => v.Decision == PromotionDecision.Approve).Select(v => v.UserId).ToList();
        if (voters.Count == 0) return 0;
        // Roles are stored by name, so they are compared here rather than in SQL.
        var roles = await db.Users.AsNoTracking().Where(u => voters.Contains(u.Id) && !u.Disabled).Select(u => u.Role).ToListAsync(ct);
        return roles.Count(r => r >= Access.Role.Approver);
    }

    public static PromotionView ToView(PromotionRequest r, string model, int version) => new(
        r.Id, model, version, r.FromStage, r.TargetStage, r.Status, r.RequestedBy, r.Comment, r.CreatedAt, r.ClosedAt, r.ClosedBy,
        r.CloseComment, r.RequiredApprovals, r.Votes.Count(v => v.Decision == PromotionDecision.Approve),
        r.Votes.OrderBy(v => v.At).ThenBy(v => v.Id).Select(v => new VoteView(v.Actor, v.Decision, v.Comment, v.At)).ToList(),
        r.Gates, Gates.AllPass(r.Gates), r.EvaluatedAt, r.BaselineVersion, r.Note);
}
