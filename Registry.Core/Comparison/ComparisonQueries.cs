using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Catalog;
using Registry.Core.Persistence;
using Registry.Core.Promotions;
using Registry.Core.Validation;

namespace Registry.Core.Comparison;

/// <summary>A version named as <c>model:version</c>.</summary>
public sealed record VersionRef(string Model, int Version)
{
    public override string ToString() => $"{Model}:{Version}";

    /// <summary>Parses "fraud:3"; model names never contain ':'.</summary>
    public static VersionRef? Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return null;
        var model = text[..colon].Trim();
        var number = text[(colon + 1)..].Trim();
        return model.Length > 0 && number.All(char.IsAsciiDigit) && int.TryParse(number, CultureInfo.InvariantCulture, out var v) && v > 0
            ? new VersionRef(model, v)
            : null;
    }
}

/// <summary>Versions side by side: what each is, its metrics with the best per row and deltas against a baseline, and how its signature differs.</summary>
public sealed record ComparisonView(
    IReadOnlyList<ComparedVersion> Versions,
    int Baseline,
    IReadOnlyList<ComparedRow> Metrics,
    IReadOnlyList<ComparedRow> System,
    IReadOnlyList<SignatureComparison?> Signatures);

public sealed record ComparedVersion(
    string Model,
    int Version,
    Stage Stage,
    ValidationStatus Validation,
    string Sha256,
    long SizeBytes,
    long ParameterCount,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    IReadOnlyList<string> Parents,
    IReadOnlyList<string> Datasets,
    string? Commit)
{
    public string Ref => $"{Model}:{Version}";
}

/// <summary>
/// One metric (and dataset) across the compared versions, in their order: a missing value is null.
/// <see cref="Best"/> holds the positions of the best value by the metric's direction;
/// <see cref="Deltas"/> are value − the baseline's value.
/// </summary>
public sealed record ComparedRow(
    string Key,
    string? Dataset,
    MetricDirection Direction,
    IReadOnlyList<double?> Values,
    IReadOnlyList<int> Best,
    IReadOnlyList<double?> Deltas);

/// <summary>A metric of one model across its versions, one line per dataset: what the trend chart draws.</summary>
public sealed record MetricSeries(string Model, string Key, MetricDirection Direction, IReadOnlyList<int> Versions, IReadOnlyList<SeriesLine> Lines);

public sealed record SeriesLine(string? Dataset, IReadOnlyList<double?> Values);

/// <summary>Comparison of versions and metric trends, for the REST API and the compare page alike.</summary>
public sealed class ComparisonQueries(IDbContextFactory<RegistryDbContext> dbFactory, CatalogQueries catalog, MetricDirections directions)
{
    public const int MinVersions = 2;
    public const int MaxVersions = 10;

    /// <summary>Parses "fraud:1,fraud:2,other:5" into distinct references.</summary>
    public static Result<IReadOnlyList<VersionRef>> ParseList(string? text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var refs = new List<VersionRef>();
        foreach (var part in parts)
        {
            if (VersionRef.Parse(part) is not { } parsed)
                return RegistryError.BadRequest("Invalid version reference",
                    $"'{Rules.Shorten(part)}' is not a version reference; write model:version, such as fraud-detector:3, separated by commas.");
            if (!refs.Any(r => string.Equals(r.Model, parsed.Model, StringComparison.OrdinalIgnoreCase) && r.Version == parsed.Version))
                refs.Add(parsed);
        }
        if (refs.Count is < MinVersions or > MaxVersions)
            return RegistryError.BadRequest("Choose 2 to 10 versions",
                $"A comparison takes {MinVersions} to {MaxVersions} different versions (versions=model:1,model:2); got {refs.Count}.");
        return refs;
    }

    public async Task<Result<ComparisonView>> CompareAsync(IReadOnlyList<VersionRef> refs, VersionRef? baseline, CancellationToken ct = default)
    {
        var views = new List<VersionView>();
        foreach (var r in refs)
        {
            var view = await catalog.GetVersionAsync(r.Model, r.Version, ct);
            if (!view.IsSuccess) return view.Error!;
            views.Add(view.Value);
        }
        var baseIndex = 0;
        if (baseline is not null)
        {
            baseIndex = views.FindIndex(v => string.Equals(v.Model, baseline.Model, StringComparison.OrdinalIgnoreCase) && v.Version == baseline.Version);
            if (baseIndex < 0)
                return RegistryError.BadRequest("Baseline not compared",
                    $"The baseline {baseline} is not among the compared versions; choose one of {string.Join(", ", views.Select(v => $"{v.Model}:{v.Version}"))}.");
        }

        // The last value logged for each (key, dataset) is the version's value.
        var latest = views.Select(v => v.Metrics.GroupBy(m => (m.Key, m.Dataset))
            .ToDictionary(g => g.Key, g => g.OrderBy(m => m.LoggedAt).Last())).ToList();
        var userKeys = latest.SelectMany(d => d.Where(kv => !kv.Value.System).Select(kv => kv.Key)).Distinct()
            .OrderBy(k => k.Key, StringComparer.Ordinal).ThenBy(k => k.Dataset, StringComparer.Ordinal).ToList();
        var metrics = userKeys.Select(k => Row(k.Key, k.Dataset, latest.Select(d => d.TryGetValue(k, out var m) ? m.Value : (double?)null).ToList(), baseIndex)).ToList();

        var system = ValidationQueue.SystemMetricKeys.Order(StringComparer.Ordinal)
            .Select(key => Row(key, null, latest.Select(d => d.TryGetValue((key, null), out var m) ? m.Value : (double?)null).ToList(), baseIndex))
            .Where(r => r.Values.Any(v => v is not null))
            .Append(Row(MetricDirections.SizeBytes, null, views.Select(v => (double?)v.SizeBytes).ToList(), baseIndex))
            .Append(Row(MetricDirections.Parameters, null, views.Select(v => (double?)v.Signature.ParameterCount).ToList(), baseIndex))
            .ToList();

        var baseSignature = views[baseIndex].Signature;
        var signatures = views.Select((v, i) => i == baseIndex ? null : SignatureDiff.Compare(v.Signature, baseSignature)).ToList();

        return new ComparisonView(views.Select(Describe).ToList(), baseIndex, metrics, system, signatures);
    }

    private ComparedRow Row(string key, string? dataset, IReadOnlyList<double?> values, int baseIndex)
    {
        var direction = directions.Of(key);
        var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        IReadOnlyList<int> best = [];
        if (present.Count > 0)
        {
            var target = direction == MetricDirection.HigherIsBetter ? present.Max() : present.Min();
            best = values.Select((v, i) => (v, i)).Where(p => p.v == target).Select(p => p.i).ToList();
        }
        var reference = values[baseIndex];
        var deltas = values.Select(v => v is { } x && reference is { } b ? x - b : (double?)null).ToList();
        return new ComparedRow(key, dataset, direction, values, best, deltas);
    }

    private static ComparedVersion Describe(VersionView v) => new(
        v.Model, v.Version, v.Stage, v.ValidationStatus, v.Sha256, v.SizeBytes, v.Signature.ParameterCount, v.Description, v.Tags,
        v.CreatedAt, v.CreatedBy,
        v.Lineage.Parents.Select(p => $"{p.Model}:{p.Version} ({p.Relation})").ToList(),
        v.Lineage.Datasets.Select(d => d.Name).ToList(),
        v.Lineage.Source?.Commit);

    /// <summary>A metric across every version of a model (x = version), one line per dataset.</summary>
    public async Task<Result<MetricSeries>> SeriesAsync(string modelName, string key, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ServingQueries.ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var points = await db.Metrics.AsNoTracking().Where(m => m.Key == key)
            .Join(db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id), m => m.VersionId, v => v.Id,
                (m, v) => new { v.Number, m.Dataset, m.Value, m.LoggedAt, m.Id })
            .ToListAsync(ct);
        var versions = points.Select(p => p.Number).Distinct().Order().ToList();
        var lines = points.GroupBy(p => p.Dataset).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var last = g.GroupBy(p => p.Number).ToDictionary(v => v.Key, v => v.OrderBy(p => p.LoggedAt).ThenBy(p => p.Id).Last().Value);
            return new SeriesLine(g.Key, versions.Select(n => last.TryGetValue(n, out var value) ? value : (double?)null).ToList());
        }).ToList();
        return new MetricSeries(model.Name, key, directions.Of(key), versions, lines);
    }

    /// <summary>The metric keys logged on a model's versions (the validator's first), for choosing a chart.</summary>
    public async Task<IReadOnlyList<string>> MetricKeysAsync(string modelName, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = RegisteredModel.Normalize(modelName);
        var keys = await db.Metrics.AsNoTracking()
            .Join(db.Versions.AsNoTracking().Where(v => v.Model.NormalizedName == normalized), m => m.VersionId, v => v.Id, (m, v) => m.Key)
            .Distinct().ToListAsync(ct);
        return keys.OrderBy(k => ValidationQueue.SystemMetricKeys.Contains(k)).ThenBy(k => k, StringComparer.Ordinal).ToList();
    }

    /// <summary>The comparison as CSV: one column per version, one row per property and metric; cells that a spreadsheet would run as formulas are quoted inert.</summary>
    public static string ToCsv(ComparisonView c)
    {
        var csv = new StringBuilder();
        void Line(IEnumerable<string?> cells) => csv.Append(string.Join(",", cells.Select(Cell))).Append("\r\n");
        string N(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";

        Line(new[] { "section", "name", "dataset", "direction" }.Concat(c.Versions.Select(v => v.Ref)));
        void Property(string name, Func<ComparedVersion, string?> value) =>
            Line(new[] { "version", name, "", "" }.Concat(c.Versions.Select(value)));
        Property("stage", v => v.Stage.ToString());
        Property("validation", v => v.Validation.ToString());
        Property("sha256", v => v.Sha256);
        Property("created", v => v.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        Property("created by", v => v.CreatedBy);
        Property("description", v => v.Description);
        Property("tags", v => string.Join("; ", v.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")));
        Property("parents", v => string.Join("; ", v.Parents));
        Property("datasets", v => string.Join("; ", v.Datasets));
        Property("commit", v => v.Commit);
        foreach (var (section, rows) in new[] { ("metric", c.Metrics), ("system", c.System) })
            foreach (var row in rows)
                Line(new[] { section, row.Key, row.Dataset ?? "", row.Direction == MetricDirection.HigherIsBetter ? "higher" : "lower" }
                    .Concat(row.Values.Select(N)));
        Line(new[] { "signature", $"differences from {c.Versions[c.Baseline].Ref}", "", "" }.Concat(c.Signatures.Select(s => s is null
            ? "baseline"
            : s.Differences.Count == 0 ? "same" : $"{(s.Compatible ? "compatible" : "breaking")}: {string.Join("; ", s.Differences.Select(d => d.Message))}")));
        return csv.ToString();
    }

    private static string Cell(string? value)
    {
        value ??= "";
        // A leading = + - @ | (or tab/CR) makes spreadsheets evaluate a cell; numbers are left as they are.
        if (value.Length > 0 && "=+-@|\t\r".Contains(value[0]) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }
}
