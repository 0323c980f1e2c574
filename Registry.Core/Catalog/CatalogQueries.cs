using Microsoft.EntityFrameworkCore;
using Registry.Core.Persistence;

namespace Registry.Core.Catalog;

/// <summary>Reads of the catalogue shared by the REST API and the UI. Each call uses its own short-lived context.</summary>
public sealed class CatalogQueries(IDbContextFactory<RegistryDbContext> dbFactory)
{
    /// <summary>
    /// Models matching <paramref name="search"/>, one page: text in the name or
    /// description (ignoring case), a tag (<c>key</c> or <c>key=value</c>), a stage some version is
    /// in, a metric of the latest or production version within bounds; by name, last update or that
    /// metric (models without it last).
    /// </summary>
    public async Task<PagedList<ModelSummary>> ListModelsAsync(ModelSearch search, PageRequest page, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var models = db.Models.AsNoTracking();
        if (search.Text is { } q)
        {
            var needle = q.ToLowerInvariant();
            models = models.Where(m => m.NormalizedName.Contains(needle) || (m.Description != null && m.Description.ToLower().Contains(needle)));
        }
        if (search.Tag is { } tag)
        {
            var eq = tag.IndexOf('=');
            var key = eq < 0 ? tag : tag[..eq];
            var value = eq < 0 ? null : tag[(eq + 1)..];
            models = value is null
                ? models.Where(m => m.Tags.Any(t => t.Key == key))
                : models.Where(m => m.Tags.Any(t => t.Key == key && t.Value == value));
        }
        if (search.Stage is { } stage)
            models = models.Where(m => m.Versions.Any(v => v.Stage == stage));

        // The metric's last logged value on the version the search reads (latest or production).
        var (metric, dataset) = (search.Metric, search.Dataset);
        var scored = metric is null
            ? models.Select(m => new Scored { Model = m, Value = null })
            : search.On == MetricVersion.Production
                ? models.Select(m => new Scored
                {
                    Model = m,
                    Value = db.Metrics.Where(x => x.Key == metric && x.Dataset == dataset &&
                            x.VersionId == m.Versions.Where(v => v.Stage == Stage.Production).Select(v => v.Id).FirstOrDefault())
                        .OrderByDescending(x => x.LoggedAt).ThenByDescending(x => x.Id).Select(x => (double?)x.Value).FirstOrDefault(),
                })
                : models.Select(m => new Scored
                {
                    Model = m,
                    Value = db.Metrics.Where(x => x.Key == metric && x.Dataset == dataset && x.VersionId == m.LatestVersionId)
                        .OrderByDescending(x => x.LoggedAt).ThenByDescending(x => x.Id).Select(x => (double?)x.Value).FirstOrDefault(),
                });
        IReadOnlyList<long> ids;
        int total;
        Dictionary<long, double?> values = [];
        if (metric is null)
        {
            var ordered = search.Sort == ModelSort.Updated
                ? search.Descending
                    ? scored.OrderByDescending(s => s.Model.UpdatedAt).ThenBy(s => s.Model.NormalizedName)
                    : scored.OrderBy(s => s.Model.UpdatedAt).ThenBy(s => s.Model.NormalizedName)
                : search.Descending ? scored.OrderByDescending(s => s.Model.NormalizedName) : scored.OrderBy(s => s.Model.NormalizedName);
            total = await scored.CountAsync(ct);
            ids = await ordered.Skip(page.Skip).Take(page.PageSize).Select(s => s.Model.Id).ToListAsync(ct);
        }
        else
        {
            // The metric's value is read once per model in one pass (a covering index makes each read
            // one seek); bounds, order and paging are then applied here, where the value is at hand,
            // rather than making SQLite compute it again for the count, the filter and the order.
            var candidates = await scored.Select(s => new { s.Model.Id, s.Model.NormalizedName, s.Model.UpdatedAt, s.Value }).ToListAsync(ct);
            var matching = candidates.Where(c => (search.Min is not { } min || c.Value >= min) && (search.Max is not { } max || c.Value <= max));
            var sorted = search.Sort switch
            {
                ModelSort.Updated => search.Descending
                    ? matching.OrderByDescending(c => c.UpdatedAt).ThenBy(c => c.NormalizedName, StringComparer.Ordinal)
                    : matching.OrderBy(c => c.UpdatedAt).ThenBy(c => c.NormalizedName, StringComparer.Ordinal),
                ModelSort.Metric => search.Descending
                    ? matching.OrderBy(c => c.Value is null).ThenByDescending(c => c.Value).ThenBy(c => c.NormalizedName, StringComparer.Ordinal)
                    : matching.OrderBy(c => c.Value is null).ThenBy(c => c.Value).ThenBy(c => c.NormalizedName, StringComparer.Ordinal),
                _ => search.Descending
                    ? matching.OrderByDescending(c => c.NormalizedName, StringComparer.Ordinal)
                    : matching.OrderBy(c => c.NormalizedName, StringComparer.Ordinal),
            };
            var list = sorted.ToList();
            total = list.Count;
            var shown = list.Skip(page.Skip).Take(page.PageSize).ToList();
            ids = shown.Select(c => c.Id).ToList();
            values = shown.ToDictionary(c => c.Id, c => c.Value);
        }

        var rows = await db.Models.AsNoTracking().Where(m => ids.Contains(m.Id))
            .Select(m => new
            {
                m.Id,
                m.Name,
                m.Description,
                Tags = m.Tags.Select(t => new { t.Key, t.Value }).ToList(),
                m.LatestVersion,
                LatestValidation = m.Versions.Where(v => v.Number == m.LatestVersion).Select(v => (ValidationStatus?)v.ValidationStatus).FirstOrDefault(),
                Production = m.Versions.Where(v => v.Stage == Stage.Production).Select(v => (int?)v.Number).FirstOrDefault(),
                Staging = m.Versions.Count(v => v.Stage == Stage.Staging),
                m.CreatedAt,
                m.CreatedBy,
                m.UpdatedAt,
            })
            .AsSplitQuery()
            .ToListAsync(ct);

        var byId = rows.ToDictionary(r => r.Id);
        var items = ids.Select(id => byId[id]).Select(r => new ModelSummary(
            r.Name, r.Description, r.Tags.ToDictionary(t => t.Key, t => t.Value), r.LatestVersion,
            r.LatestValidation, r.Production, r.Staging, r.CreatedAt, r.CreatedBy, r.UpdatedAt, values.GetValueOrDefault(r.Id))).ToList();
        return new PagedList<ModelSummary>(items, total, page.Page, page.PageSize);
    }

    private sealed class Scored
    {
        public required RegisteredModel Model { get; init; }
        public double? Value { get; init; }
    }

    public async Task<Result<ModelView>> GetModelAsync(string name, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Models.AsNoTracking()
            .Where(m => m.NormalizedName == normalized)
            .Select(m => new
            {
                m.Name,
                m.Description,
                Tags = m.Tags.Select(t => new { t.Key, t.Value }).ToList(),
                m.LatestVersion,
                LatestValidation = m.Versions.Where(v => v.Number == m.LatestVersion).Select(v => (ValidationStatus?)v.ValidationStatus).FirstOrDefault(),
                Production = m.Versions.Where(v => v.Stage == Stage.Production).Select(v => (int?)v.Number).FirstOrDefault(),
                Staging = m.Versions.Count(v => v.Stage == Stage.Staging),
                m.CreatedAt,
                m.CreatedBy,
                m.UpdatedAt,
                m.Card,
            })
            .AsSplitQuery()
            .SingleOrDefaultAsync(ct);
        if (row is null) return ModelNotFound(name);
        return new ModelView(row.Name, row.Description, row.Tags.ToDictionary(t => t.Key, t => t.Value), row.LatestVersion,
            row.LatestValidation, row.Production, row.Staging, row.CreatedAt, row.CreatedBy, row.UpdatedAt, row.Card);
    }

    /// <summary>A model's versions, newest first.</summary>
    public async Task<Result<PagedList<VersionSummary>>> ListVersionsAsync(string name, PageRequest page, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await db.Models.AsNoTracking().Where(m => m.NormalizedName == normalized)
            .Select(m => new { m.Id, m.Name }).SingleOrDefaultAsync(ct);
        if (model is null) return ModelNotFound(name);

        var versions = db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id);
        var total = await versions.CountAsync(ct);
        var items = await versions
            .OrderByDescending(v => v.Number)
            .Skip(page.Skip).Take(page.PageSize)
            .Select(v => new VersionSummary(model.Name, v.Number, v.ArtifactSha256, v.Artifact.SizeBytes, v.Stage,
                v.ValidationStatus, v.Description, v.CreatedAt, v.CreatedBy))
            .ToListAsync(ct);
        return new PagedList<VersionSummary>(items, total, page.Page, page.PageSize);
    }

    public async Task<Result<VersionView>> GetVersionAsync(string name, int version, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var v = await db.Versions.AsNoTracking()
            .Include(x => x.Model)
            .Include(x => x.Artifact)
            .Include(x => x.Tags)
            .Include(x => x.Datasets)
            .Include(x => x.Metrics)
            .Include(x => x.Parents).ThenInclude(p => p.Parent).ThenInclude(p => p.Model)
            .AsSplitQuery()
            .SingleOrDefaultAsync(x => x.Model.NormalizedName == normalized && x.Number == version, ct);
        if (v is null) return await VersionNotFoundAsync(db, name, version, ct);

        return new VersionView(
            v.Model.Name, v.Number, v.ArtifactSha256, v.Artifact.SizeBytes, v.Stage, v.ValidationStatus, v.Description,
            v.Tags.ToDictionary(t => t.Key, t => t.Value),
            v.Signature,
            OrderMetrics(v.Metrics),
            new LineageView(
                v.Parents.Select(p => new ParentView(p.Parent.Model.Name, p.Parent.Number, p.Relation)).ToList(),
                v.Datasets.Select(d => new DatasetView(d.Name, d.Uri, d.Digest)).ToList(),
                v.SourceCommit is null && v.SourceRunUrl is null ? null : new SourceView(v.SourceCommit, v.SourceRunUrl),
                v.Params),
            v.CreatedAt, v.CreatedBy, v.Card);
    }

    public async Task<Result<IReadOnlyList<MetricView>>> GetMetricsAsync(string name, int version, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var id = await db.Versions.AsNoTracking()
            .Where(x => x.Model.NormalizedName == normalized && x.Number == version)
            .Select(x => (long?)x.Id).SingleOrDefaultAsync(ct);
        if (id is null) return await VersionNotFoundAsync(db, name, version, ct);
        var metrics = await db.Metrics.AsNoTracking().Where(m => m.VersionId == id).ToListAsync(ct);
        return Result<IReadOnlyList<MetricView>>.Ok(OrderMetrics(metrics));
    }

    public async Task<Result<ArtifactLocation>> GetArtifactAsync(string name, int version, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(name);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var location = await db.Versions.AsNoTracking()
            .Where(x => x.Model.NormalizedName == normalized && x.Number == version)
            .Select(x => new ArtifactLocation(x.Model.Name, x.Number, x.ArtifactSha256, x.Artifact.SizeBytes, x.Artifact.StorageKey, x.Artifact.CreatedAt))
            .SingleOrDefaultAsync(ct);
        if (location is null) return await VersionNotFoundAsync(db, name, version, ct);
        return location;
    }

    /// <summary>Model names starting with (or containing) the text, for pickers.</summary>
    public async Task<IReadOnlyList<string>> SuggestModelNamesAsync(string? text, int limit, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var needle = (text ?? "").Trim().ToLowerInvariant();
        return await db.Models.AsNoTracking()
            .Where(m => needle == "" || m.NormalizedName.Contains(needle))
            .OrderBy(m => m.NormalizedName)
            .Select(m => m.Name)
            .Take(limit)
            .ToListAsync(ct);
    }

    private static List<MetricView> OrderMetrics(IEnumerable<Metric> metrics) => metrics
        .OrderBy(m => m.IsSystem).ThenBy(m => m.Key, StringComparer.Ordinal).ThenBy(m => m.Dataset, StringComparer.Ordinal).ThenBy(m => m.LoggedAt)
        .Select(m => new MetricView(m.Key, m.Value, m.Dataset, m.LoggedAt, m.LoggedBy, m.IsSystem))
        .ToList();

    internal static RegistryError ModelNotFound(string name) =>
        RegistryError.NotFound($"There is no model named '{name}'. Model names ignore case; list the models to see the names that exist.") with { See = RegistryLink.Models };

    internal static async Task<RegistryError> VersionNotFoundAsync(RegistryDbContext db, string name, int version, CancellationToken ct)
    {
        var normalized = RegisteredModel.Normalize(name);
        var latest = await db.Models.AsNoTracking().Where(m => m.NormalizedName == normalized)
            .Select(m => (int?)m.LatestVersion).SingleOrDefaultAsync(ct);
        return latest switch
        {
            null => ModelNotFound(name),
            0 => RegistryError.NotFound($"Model '{name}' has no versions yet."),
            _ => RegistryError.NotFound($"Model '{name}' has no version {version}; its versions are 1 to {latest}."),
        };
    }
}
