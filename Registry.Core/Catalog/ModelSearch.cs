using System.Globalization;

namespace Registry.Core.Catalog;

public enum ModelSort
{
    Name,
    Updated,
    Metric,
}

/// <summary>Which version of a model a metric filter or sort reads.</summary>
public enum MetricVersion
{
    /// <summary>The highest version number.</summary>
    Latest,
    /// <summary>The version in production (models without one have no value).</summary>
    Production,
}

/// <summary>
/// What the models list is filtered and sorted by: text, tag, a stage some version is in, a
/// metric of the latest or production version within bounds; by name, last update or that metric.
/// </summary>
public sealed record ModelSearch
{
    public string? Text { get; init; }
    public string? Tag { get; init; }
    public Stage? Stage { get; init; }
    public string? Metric { get; init; }
    public string? Dataset { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public MetricVersion On { get; init; } = MetricVersion.Latest;
    public ModelSort Sort { get; init; } = ModelSort.Name;
    public bool Descending { get; init; }

    public static readonly ModelSearch All = new();

    /// <summary>Reads the query string's values; each bad one is a 400 that says what it accepts.</summary>
    public static Result<ModelSearch> Parse(string? q, string? tag, string? stage, string? metric, string? dataset, string? min, string? max,
        string? on, string? sort, string? order)
    {
        Stage? wanted = null;
        if (!string.IsNullOrWhiteSpace(stage))
        {
            wanted = Rules.ParseName<Stage>(stage);
            if (wanted is null or Catalog.Stage.None)
                return Bad("stage", stage, "Staging, Production or Archived (models with at least one version in that stage)");
        }
        var low = Number("min", min, out var minError);
        if (minError is not null) return minError;
        var high = Number("max", max, out var maxError);
        if (maxError is not null) return maxError;
        var onVersion = MetricVersion.Latest;
        if (!string.IsNullOrWhiteSpace(on))
        {
            if (Rules.ParseName<MetricVersion>(on) is not { } parsedOn) return Bad("on", on, "latest or production");
            onVersion = parsedOn;
        }
        var by = ModelSort.Name;
        if (!string.IsNullOrWhiteSpace(sort))
        {
            if (Rules.ParseName<ModelSort>(sort) is not { } parsedSort) return Bad("sort", sort, "name, updated or metric");
            by = parsedSort;
        }
        var descending = false;
        if (!string.IsNullOrWhiteSpace(order))
        {
            if (order.Trim().Equals("desc", StringComparison.OrdinalIgnoreCase)) descending = true;
            else if (!order.Trim().Equals("asc", StringComparison.OrdinalIgnoreCase)) return Bad("order", order, "asc or desc");
        }
        var key = string.IsNullOrWhiteSpace(metric) ? null : metric.Trim();
        if (key is null && (low is not null || high is not null || !string.IsNullOrWhiteSpace(dataset) || by == ModelSort.Metric))
            return RegistryError.BadRequest("Metric needed",
                "min, max, dataset and sort=metric apply to a metric: add metric=<key>, such as metric=auc&dataset=holdout&min=0.9.");
        if (low is not null && high is not null && low > high)
            return RegistryError.BadRequest("Empty range", $"min ({low}) is above max ({high}): no model could match.");
        return new ModelSearch
        {
            Text = string.IsNullOrWhiteSpace(q) ? null : q.Trim(),
            Tag = string.IsNullOrWhiteSpace(tag) ? null : tag.Trim(),
            Stage = wanted,
            Metric = key,
            Dataset = string.IsNullOrWhiteSpace(dataset) ? null : dataset.Trim(),
            Min = low,
            Max = high,
            On = onVersion,
            Sort = by,
            Descending = descending,
        };
    }

    private static double? Number(string field, string? text, out RegistryError? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        error = RegistryError.BadRequest($"Invalid {field}", $"{field}='{Rules.Shorten(text)}' is not a number; use e.g. {field}=0.9.");
        return null;
    }

    private static RegistryError Bad(string field, string value, string accepted) =>
        RegistryError.BadRequest($"Invalid {field}", $"{field}='{Rules.Shorten(value)}' is not understood; use {accepted}.");
}
