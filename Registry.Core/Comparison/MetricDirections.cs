using Registry.Core.Validation;

namespace Registry.Core.Comparison;

/// <summary>Which way is better for a metric key.</summary>
public enum MetricDirection
{
    HigherIsBetter,
    LowerIsBetter,
}

/// <summary>
/// The <c>Registry:Metrics</c> section: metric keys for which lower is better (losses, error rates).
/// Every other user metric is higher-is-better; the validator's measurements (latency, load time,
/// memory) and size and parameter count are always lower-is-better.
/// </summary>
public sealed class MetricOptions
{
    public const string Section = "Registry:Metrics";

    /// <summary>Keys compared with lower as better, such as <c>loss</c> or <c>rmse</c>; case-insensitive.</summary>
    public List<string> LowerIsBetter { get; set; } = [];
}

public sealed class MetricDirections(Microsoft.Extensions.Options.IOptions<MetricOptions> options)
{
    /// <summary>Rows of a comparison that are not metrics but are compared like them.</summary>
    public const string SizeBytes = "size_bytes";
    public const string Parameters = "parameter_count";

    public MetricDirection Of(string key) =>
        ValidationQueue.SystemMetricKeys.Contains(key) || key is SizeBytes or Parameters ||
        options.Value.LowerIsBetter.Contains(key, StringComparer.OrdinalIgnoreCase)
            ? MetricDirection.LowerIsBetter
            : MetricDirection.HigherIsBetter;
}
