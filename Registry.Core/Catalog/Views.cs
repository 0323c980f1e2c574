using System.Text.Json;
using Registry.Core.Onnx;

namespace Registry.Core.Catalog;

// What the registry shows of its catalogue, to the API and the UI alike. Never EF entities.

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

public sealed record ModelSummary(
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    int LatestVersion,
    ValidationStatus? LatestValidation,
    int? ProductionVersion,
    int StagingCount,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    /// <summary>The value of the metric a search filtered or sorted by, on the version it read; absent otherwise.</summary>
    double? Metric = null);

/// <summary>One model as <c>GET /api/v1/models/{name}</c> shows it: its summary and its card (raw Markdown).</summary>
public sealed record ModelView(
    string Name,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    int LatestVersion,
    ValidationStatus? LatestValidation,
    int? ProductionVersion,
    int StagingCount,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    string? Card);

public sealed record VersionSummary(
    string Model,
    int Version,
    string Sha256,
    long SizeBytes,
    Stage Stage,
    ValidationStatus ValidationStatus,
    string? Description,
    DateTimeOffset CreatedAt,
    string CreatedBy);

public sealed record VersionView(
    string Model,
    int Version,
    string Sha256,
    long SizeBytes,
    Stage Stage,
    ValidationStatus ValidationStatus,
    string? Description,
    IReadOnlyDictionary<string, string> Tags,
    ModelSignature Signature,
    IReadOnlyList<MetricView> Metrics,
    LineageView Lineage,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    string? Card);

/// <summary>A metric; <see cref="System"/> marks the ones the validator measured (latency, load time, memory).</summary>
public sealed record MetricView(string Key, double Value, string? Dataset, DateTimeOffset LoggedAt, string LoggedBy, bool System);

public sealed record LineageView(
    IReadOnlyList<ParentView> Parents,
    IReadOnlyList<DatasetView> Datasets,
    SourceView? Source,
    IReadOnlyDictionary<string, JsonElement> Params);

public sealed record ParentView(string Model, int Version, string Relation);

public sealed record DatasetView(string Name, string? Uri, string? Digest);

public sealed record SourceView(string? Commit, string? RunUrl);

/// <summary>Where a version's bytes are, for downloads.</summary>
public sealed record ArtifactLocation(string Model, int Version, string Sha256, long SizeBytes, string StorageKey, DateTimeOffset CreatedAt);

/// <summary>A validated page request: page from 1, page size from 1 to <see cref="MaxPageSize"/>.</summary>
public sealed record PageRequest(int Page, int PageSize)
{
    public const int MaxPageSize = 100;
    public const int DefaultPageSize = 20;

    public int Skip => (Page - 1) * PageSize;

    public static Result<PageRequest> Create(int? page, int? pageSize)
    {
        var p = page ?? 1;
        var s = pageSize ?? DefaultPageSize;
        if (p < 1)
            return RegistryError.BadRequest("Invalid page", $"page starts at 1; got {p}.");
        if (s is < 1 or > MaxPageSize)
            return RegistryError.BadRequest("Invalid page size", $"pageSize must be between 1 and {MaxPageSize}; got {s}.");
        if ((long)(p - 1) * s > int.MaxValue)
            return RegistryError.BadRequest("Invalid page", $"page {p} is beyond any list this registry can hold.");
        return new PageRequest(p, s);
    }
}
