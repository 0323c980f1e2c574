using Microsoft.EntityFrameworkCore;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Promotions;

/// <summary>
/// What services ask: which version a stage or an alias points to, now or at a past instant; and a
/// model's timeline. Every answer comes from the model's history, so "now" and "at T" are the same
/// question.
/// </summary>
public sealed class ServingQueries(IDbContextFactory<RegistryDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>The production version at <paramref name="at"/> (default: now).</summary>
    public async Task<Result<ResolvedVersion>> ProductionAsync(string modelName, DateTimeOffset? at, CancellationToken ct = default)
    {
        var when = (at ?? clock.GetUtcNow()).ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        // The last move into or out of production up to that instant decides. Moves are written in the
        // order they happen (the old version leaves before the new one enters), so the id orders them.
        var last = await db.ModelHistory.AsNoTracking()
            .Where(h => h.ModelId == model.Id && h.Kind == HistoryKind.Stage && h.At <= when &&
                (h.ToStage == Stage.Production || h.FromStage == Stage.Production))
            .OrderByDescending(h => h.Id)
            .Select(h => new { h.Id, h.ToStage, h.At, h.Actor, h.Reason, h.VersionId })
            .FirstOrDefaultAsync(ct);
        if (last is not { ToStage: Stage.Production })
            return at is null
                ? RegistryError.NotFound($"{model.Name} has no version in production. Request a promotion of one of its versions to Production.")
                    with { See = RegistryLink.Versions(model.Name) }
                : RegistryError.NotFound($"{model.Name} had no version in production at {when:yyyy-MM-ddTHH:mm:ss.fffZ}.");
        return await ResolveAsync(db, model.Name, "production", last.VersionId!.Value, last.Id, last.At, last.Actor, last.Reason, ct);
    }

    /// <summary>The version an alias points to at <paramref name="at"/> (default: now).</summary>
    public async Task<Result<ResolvedVersion>> AliasAsync(string modelName, string alias, DateTimeOffset? at, CancellationToken ct = default)
    {
        var when = (at ?? clock.GetUtcNow()).ToUniversalTime();
        var name = alias.ToLowerInvariant();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var last = await db.ModelHistory.AsNoTracking()
            .Where(h => h.ModelId == model.Id && h.Kind == HistoryKind.Alias && h.Alias == name && h.At <= when)
            .OrderByDescending(h => h.Id)
            .Select(h => new { h.Id, h.VersionId, h.At, h.Actor, h.Reason })
            .FirstOrDefaultAsync(ct);
        if (last?.VersionId is not { } versionId)
            return at is null
                ? AliasNotFound(model.Name, alias)
                : RegistryError.NotFound($"{model.Name} had no alias '{alias}' at {when:yyyy-MM-ddTHH:mm:ss.fffZ}.");
        return await ResolveAsync(db, model.Name, name, versionId, last.Id, last.At, last.Actor, last.Reason, ct);
    }

    public async Task<Result<IReadOnlyList<AliasView>>> AliasesAsync(string modelName, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var aliases = await db.ModelAliases.AsNoTracking().Where(a => a.ModelId == model.Id).OrderBy(a => a.Name)
            .Select(a => new AliasView(a.Name, a.Version.Number, a.UpdatedAt, a.UpdatedBy)).ToListAsync(ct);
        return Result<IReadOnlyList<AliasView>>.Ok(aliases);
    }

    /// <summary>A model's stage moves and alias changes, newest first.</summary>
    public async Task<Result<PagedList<HistoryView>>> HistoryAsync(string modelName, PageRequest page, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var entries = db.ModelHistory.AsNoTracking().Where(h => h.ModelId == model.Id);
        var total = await entries.CountAsync(ct);
        var items = await entries.OrderByDescending(h => h.Id).Skip(page.Skip).Take(page.PageSize)
            .Select(h => new HistoryView(h.Id, h.At, h.Kind, h.Version == null ? null : h.Version.Number, h.FromStage, h.ToStage, h.Alias,
                h.PreviousVersion == null ? null : h.PreviousVersion.Number, h.Actor, h.Reason, h.PromotionId))
            .ToListAsync(ct);
        return new PagedList<HistoryView>(items, total, page.Page, page.PageSize);
    }

    /// <summary>How a version's signature differs from another's (default: the production version's).</summary>
    public async Task<Result<SignatureDiffView>> SignatureDiffAsync(string modelName, int version, int? against, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var candidate = await db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.Number == version)
            .Select(v => v.Signature).SingleOrDefaultAsync(ct);
        if (candidate is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, version, ct);
        var other = against is { } n
            ? await db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.Number == n).Select(v => new { v.Number, v.Signature }).SingleOrDefaultAsync(ct)
            : await db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.Stage == Stage.Production).Select(v => new { v.Number, v.Signature }).SingleOrDefaultAsync(ct);
        if (other is null)
            return against is { } missing
                ? await CatalogQueries.VersionNotFoundAsync(db, modelName, missing, ct)
                : RegistryError.NotFound($"{model.Name} has no version in production to compare with; name the version to compare it against.");
        var comparison = SignatureDiff.Compare(candidate, other.Signature);
        return new SignatureDiffView(model.Name, version, other.Number, comparison.Compatible, comparison.Differences);
    }

    private static async Task<Result<ResolvedVersion>> ResolveAsync(RegistryDbContext db, string model, string name, long versionId,
        long entry, DateTimeOffset since, string by, string? reason, CancellationToken ct)
    {
        var v = await db.Versions.AsNoTracking().Where(x => x.Id == versionId)
            .Select(x => new { x.Number, x.ArtifactSha256, x.Artifact.SizeBytes }).SingleAsync(ct);
        return new ResolvedVersion(model, name, v.Number, v.ArtifactSha256, v.SizeBytes, since, by, reason, entry);
    }

    internal static RegistryError AliasNotFound(string model, string alias) =>
        RegistryError.NotFound($"{model} has no alias '{alias}'. List the model's aliases to see which exist.") with { See = RegistryLink.Aliases(model) };

    internal static Task<ModelRef?> ModelAsync(RegistryDbContext db, string name, CancellationToken ct)
    {
        var normalized = RegisteredModel.Normalize(name);
        return db.Models.AsNoTracking().Where(m => m.NormalizedName == normalized).Select(m => new ModelRef(m.Id, m.Name)).SingleOrDefaultAsync(ct);
    }
}

internal sealed record ModelRef(long Id, string Name);
