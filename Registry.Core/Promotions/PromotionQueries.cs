using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Promotions;

/// <summary>Reads of promotion requests, shared by the REST API and the UI: lists, one request, its evidence, a preview.</summary>
public sealed class PromotionQueries(IDbContextFactory<RegistryDbContext> dbFactory, IOptions<PromotionOptions> options,
    Comparison.MetricDirections directions)
{
    public async Task<Result<PromotionView>> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var request = await db.PromotionRequests.AsNoTracking().Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model)
            .SingleOrDefaultAsync(r => r.Id == id, ct);
        if (request is null) return PromotionService.RequestNotFound(id);
        return PromotionFacts.ToView(request, request.Version.Model.Name, request.Version.Number);
    }

    /// <summary>Requests, newest first, by status and model; <paramref name="status"/> and <paramref name="model"/> are optional.</summary>
    public async Task<Result<PagedList<PromotionView>>> ListAsync(string? status, string? model, PageRequest page, CancellationToken ct = default)
    {
        PromotionStatus? wanted = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            wanted = Rules.ParseName<PromotionStatus>(status);
            if (wanted is null)
                return RegistryError.BadRequest("Invalid status",
                    $"status '{status}' is not a request status; use one of {string.Join(", ", Enum.GetNames<PromotionStatus>())}.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var requests = db.PromotionRequests.AsNoTracking();
        if (wanted is { } s) requests = requests.Where(r => r.Status == s);
        if (!string.IsNullOrWhiteSpace(model))
        {
            var normalized = RegisteredModel.Normalize(model);
            if (!await db.Models.AnyAsync(m => m.NormalizedName == normalized, ct)) return CatalogQueries.ModelNotFound(model);
            requests = requests.Where(r => r.Model.NormalizedName == normalized);
        }
        var total = await requests.CountAsync(ct);
        var rows = await requests.OrderByDescending(r => r.Id).Skip(page.Skip).Take(page.PageSize)
            .Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model).AsSplitQuery().ToListAsync(ct);
        return new PagedList<PromotionView>(rows.Select(r => PromotionFacts.ToView(r, r.Version.Model.Name, r.Version.Number)).ToList(),
            total, page.Page, page.PageSize);
    }

    /// <summary>A version's most recent requests, newest first (the open one, if any, among them).</summary>
    public async Task<IReadOnlyList<PromotionView>> ForVersionAsync(string modelName, int versionNumber, int take = 5, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(modelName);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.PromotionRequests.AsNoTracking()
            .Where(r => r.Version.Model.NormalizedName == normalized && r.Version.Number == versionNumber)
            .OrderByDescending(r => r.Id).Take(take)
            .Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model).AsSplitQuery().ToListAsync(ct);
        return rows.Select(r => PromotionFacts.ToView(r, r.Version.Model.Name, r.Version.Number)).ToList();
    }

    /// <summary>Open requests this person could decide (not their own, not yet voted on), oldest first. None for anyone below Approver.</summary>
    public async Task<IReadOnlyList<PromotionView>> AwaitingAsync(Actor actor, int take = 200, CancellationToken ct = default)
    {
        if (actor.UserId is not { } me || actor.Role < Role.Approver) return [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Awaiting(db, me).OrderBy(r => r.Id).Take(take)
            .Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model).AsSplitQuery().ToListAsync(ct);
        return rows.Select(r => PromotionFacts.ToView(r, r.Version.Model.Name, r.Version.Number)).ToList();
    }

    /// <summary>How many requests <see cref="AwaitingAsync"/> would list: the inbox badge.</summary>
    public async Task<int> AwaitingCountAsync(Actor actor, CancellationToken ct = default)
    {
        if (actor.UserId is not { } me || actor.Role < Role.Approver) return 0;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Awaiting(db, me).CountAsync(ct);
    }

    private static IQueryable<PromotionRequest> Awaiting(RegistryDbContext db, long me) =>
        db.PromotionRequests.AsNoTracking()
            .Where(r => r.Status == PromotionStatus.Open && r.RequestedByUserId != me && !r.Votes.Any(v => v.UserId == me));

    /// <summary>What a request to move this version to <paramref name="targetStage"/> would be checked against, now.</summary>
    public async Task<Result<GatePreview>> PreviewAsync(string modelName, int versionNumber, string? targetStage, CancellationToken ct = default)
    {
        var target = PromotionService.ParseTarget(targetStage);
        if (!target.IsSuccess) return target.Error!;
        var normalized = RegisteredModel.Normalize(modelName);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.Versions.AsNoTracking().Where(v => v.Model.NormalizedName == normalized && v.Number == versionNumber)
            .Select(v => new { v.Id, v.ModelId, v.Stage, Model = v.Model.Name }).SingleOrDefaultAsync(ct);
        if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);
        var evaluation = await PromotionFacts.EvaluateAsync(db, version.Model, version.ModelId, version.Id, target.Value, options.Value.DefaultPolicy, directions, ct);
        return new GatePreview(version.Model, versionNumber, version.Stage, target.Value, VersionLifecycle.MovesFrom(version.Stage),
            evaluation.RequiredApprovals, evaluation.Gates, evaluation.GatesPass, evaluation.BaselineVersion);
    }

    /// <summary>The request beside the current production version: validation, metrics with deltas, signature diff, gates as they stand now.</summary>
    public async Task<Result<PromotionEvidence>> EvidenceAsync(long id, CancellationToken ct = default)
    {
        var view = await GetAsync(id, ct);
        if (!view.IsSuccess) return view.Error!;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var request = await db.PromotionRequests.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new { r.VersionId, r.ModelId, r.TargetStage, r.Status }).SingleAsync(ct);
        var evaluation = await PromotionFacts.EvaluateAsync(db, view.Value.Model, request.ModelId, request.VersionId, request.TargetStage,
            options.Value.DefaultPolicy, directions, ct);
        var candidate = evaluation.Candidate;
        var production = evaluation.Production is { } p && p.Id != candidate.Id ? p : null;

        var keys = candidate.Metrics.Keys.Concat(production?.Metrics.Keys ?? []).Distinct()
            .OrderBy(k => Validation.ValidationQueue.SystemMetricKeys.Contains(k.Key)).ThenBy(k => k.Key, StringComparer.Ordinal)
            .ThenBy(k => k.Dataset, StringComparer.Ordinal);
        var metrics = keys.Select(k =>
        {
            var c = candidate.Metric(k.Key, k.Dataset);
            var b = production?.Metric(k.Key, k.Dataset);
            return new MetricComparison(k.Key, k.Dataset, c, b, c - b, Validation.ValidationQueue.SystemMetricKeys.Contains(k.Key));
        }).ToList();

        return new PromotionEvidence(view.Value,
            await SideAsync(db, candidate, ct),
            production is null ? null : await SideAsync(db, production, ct),
            metrics,
            production is null ? null : SignatureDiff.Compare(candidate.Signature, production.Signature),
            evaluation.Gates, evaluation.GatesPass, evaluation.RequiredApprovals);
    }

    private static async Task<EvidenceSide> SideAsync(RegistryDbContext db, VersionFacts facts, CancellationToken ct)
    {
        var row = await db.Versions.AsNoTracking().Where(v => v.Id == facts.Id)
            .Select(v => new { v.ValidationStatus, v.ArtifactSha256, v.CreatedAt, v.CreatedBy }).SingleAsync(ct);
        var summary = await db.ValidationRuns.AsNoTracking().Where(r => r.VersionId == facts.Id).OrderByDescending(r => r.Id)
            .Select(r => r.Summary).FirstOrDefaultAsync(ct);
        return new EvidenceSide(facts.Number, facts.Stage, row.ValidationStatus, summary, row.ArtifactSha256, row.CreatedAt, row.CreatedBy);
    }
}
