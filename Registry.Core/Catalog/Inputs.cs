using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registry.Core.Catalog;

// The shapes clients send. Every field is nullable so that a missing field is reported by the
// validator with a message, rather than by the JSON reader with a type error.

/// <summary>The optional <c>metadata</c> part of an upload.</summary>
public sealed record VersionMetadata
{
    public string? Description { get; init; }
    public Dictionary<string, string>? Tags { get; init; }
    public List<MetricInput>? Metrics { get; init; }
    public LineageInput? Lineage { get; init; }

    /// <summary>Shapes for the smoke test by input name, such as {"image": [1, 3, 224, 224]}.</summary>
    public Dictionary<string, long[]>? SmokeTestShapes { get; init; }

    /// <summary>
    /// The file's SHA-256 as the client computed it (64 hex digits, as <c>sha256sum</c> prints them):
    /// a file that arrives with another digest is refused and nothing is kept.
    /// </summary>
    public string? Sha256 { get; init; }
}

public sealed record MetricInput
{
    public string? Key { get; init; }
    public double? Value { get; init; }
    public string? Dataset { get; init; }
}

public sealed record LineageInput
{
    public List<ParentInput>? Parents { get; init; }
    public List<DatasetInput>? Datasets { get; init; }
    public SourceInput? Source { get; init; }
    public Dictionary<string, JsonElement>? Params { get; init; }
}

public sealed record ParentInput
{
    public string? Model { get; init; }
    public int? Version { get; init; }
    public string? Relation { get; init; }
}

public sealed record DatasetInput
{
    public string? Name { get; init; }
    public string? Uri { get; init; }
    public string? Digest { get; init; }
}

public sealed record SourceInput
{
    public string? Commit { get; init; }
    public string? RunUrl { get; init; }
}

/// <summary>The body of <c>POST …/metrics</c>.</summary>
public sealed record MetricsBatch
{
    public List<MetricInput>? Metrics { get; init; }
}

/// <summary>The body of <c>POST /api/v1/models</c>.</summary>
public sealed record CreateModelRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public Dictionary<string, string>? Tags { get; init; }
}

/// <summary>
/// The body of <c>PATCH /api/v1/models/{name}</c> and <c>PATCH …/versions/{version}</c>: a field left
/// out keeps its value, a field sent as <c>null</c> clears it, a value replaces it (tags replace the
/// whole set). The JSON reader sets only the fields present, so each setter also notes that its
/// field was sent.
/// </summary>
public sealed record UpdateMetadataRequest
{
    private readonly string? _description;
    private readonly Dictionary<string, string>? _tags;
    private readonly string? _card;

    public string? Description { get => _description; init { _description = value; HasDescription = true; } }
    public Dictionary<string, string>? Tags { get => _tags; init { _tags = value; HasTags = true; } }
    public string? Card { get => _card; init { _card = value; HasCard = true; } }

    [JsonIgnore] public bool HasDescription { get; private init; }
    [JsonIgnore] public bool HasTags { get; private init; }
    [JsonIgnore] public bool HasCard { get; private init; }
}
