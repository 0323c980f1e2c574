using System.Text.Json;
using Registry.Core.Onnx;

namespace Registry.Core.Catalog;

/// <summary>A registered model: a unique, case-insensitive name with its versions.</summary>
public sealed class RegisteredModel
{
    public long Id { get; init; }

    /// <summary>The name as first registered, case preserved (<c>Fraud-Detector</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The name lower-cased; unique, so that names differing only in case are the same model.</summary>
    public required string NormalizedName { get; init; }

    public string? Description { get; set; }

    public List<Tag> Tags { get; init; } = [];

    /// <summary>The model card: Markdown, shown rendered and sanitised; null when there is none.</summary>
    public string? Card { get; set; }

    /// <summary>The highest version number assigned so far; incremented atomically to number new versions.</summary>
    public int LatestVersion { get; set; }

    /// <summary>
    /// The row id of version <see cref="LatestVersion"/>, set in the same transaction that adds it; null
    /// before the first version is in. A copy kept for the metric search, which reads the latest
    /// version of every model and would otherwise look each one up by number.
    /// </summary>
    public long? LatestVersionId { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    /// <summary>When the model or any of its versions last changed.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    public List<ModelVersion> Versions { get; init; } = [];

    public static string Normalize(string name) => name.ToLowerInvariant();
}

/// <summary>A key=value label on a model or a version.</summary>
public sealed class Tag
{
    public required string Key { get; init; }
    public string Value { get; set; } = "";
}

public enum Stage
{
    None,
    Staging,
    Production,
    Archived,
}

public enum ValidationStatus
{
    Pending,
    Running,
    Passed,
    Failed,
}

/// <summary>
/// One immutable upload of a model. Its bytes, signature, lineage and metrics-at-upload never change;
/// its stage and validation status move, and its description, tags and card (words about it) may be edited.
/// </summary>
public sealed class ModelVersion
{
    public long Id { get; init; }

    public long ModelId { get; init; }

    public RegisteredModel Model { get; init; } = null!;

    /// <summary>1, 2, 3… per model, without gaps.</summary>
    public int Number { get; init; }

    public required string ArtifactSha256 { get; init; }

    public Artifact Artifact { get; init; } = null!;

    public string? Description { get; set; }

    public List<Tag> Tags { get; init; } = [];

    /// <summary>The version's card: Markdown, shown rendered and sanitised; null when there is none.</summary>
    public string? Card { get; set; }

    public Stage Stage { get; set; }

    public ValidationStatus ValidationStatus { get; set; }

    public required ModelSignature Signature { get; init; }

    public string? SourceCommit { get; init; }

    public string? SourceRunUrl { get; init; }

    /// <summary>Free-form training parameters, kept as the JSON values the uploader sent.</summary>
    public Dictionary<string, JsonElement> Params { get; init; } = [];

    public List<VersionParent> Parents { get; init; } = [];

    public List<DatasetRef> Datasets { get; init; } = [];

    public List<Metric> Metrics { get; init; } = [];

    /// <summary>Reference inputs and expected outputs uploaded with the version, for the smoke and golden checks.</summary>
    public List<VersionReference> References { get; init; } = [];

    /// <summary>Shapes to use for the smoke test instead of 1 for symbolic dimensions, by input name.</summary>
    public Dictionary<string, long[]>? SmokeTestShapes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }
}

public enum ReferenceKind
{
    Input,
    Output,
}

/// <summary>A serialized TensorProto uploaded with a version, stored as an artifact, matched to a graph input or output.</summary>
public sealed class VersionReference
{
    public long Id { get; init; }
    public long VersionId { get; init; }
    public ReferenceKind Kind { get; init; }

    /// <summary>Position among the references of its kind, as uploaded.</summary>
    public int Position { get; init; }

    /// <summary>The graph input or output it belongs to.</summary>
    public required string Name { get; init; }

    public required string ArtifactSha256 { get; init; }

    public Artifact Artifact { get; init; } = null!;
}

/// <summary>The bytes of one or more versions, stored once under their SHA-256.</summary>
public sealed class Artifact
{
    /// <summary>Lower-case hex SHA-256 of the bytes; the primary key.</summary>
    public required string Sha256 { get; init; }

    public long SizeBytes { get; init; }

    /// <summary>Where the artifact store keeps the bytes, relative to its root (<c>sha256/ab/abcd…</c>).</summary>
    public required string StorageKey { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A lineage edge: this version came from <see cref="ParentVersionId"/> by <see cref="Relation"/>.</summary>
public sealed class VersionParent
{
    public long VersionId { get; init; }

    public long ParentVersionId { get; init; }

    public ModelVersion Parent { get; init; } = null!;

    /// <summary><c>fine-tuned-from</c>, <c>retrained-from</c>, <c>distilled-from</c>…</summary>
    public required string Relation { get; init; }
}

/// <summary>A dataset a version was trained or evaluated on.</summary>
public sealed class DatasetRef
{
    public required string Name { get; init; }
    public string? Uri { get; init; }
    public string? Digest { get; init; }
}

/// <summary>A named number on a version, optionally for one dataset or split.</summary>
public sealed class Metric
{
    public long Id { get; init; }
    public long VersionId { get; init; }
    public required string Key { get; init; }
    public double Value { get; init; }
    public string? Dataset { get; init; }
    public DateTimeOffset LoggedAt { get; init; }
    public required string LoggedBy { get; init; }

    /// <summary>Measured by the registry (latency, load time, memory) rather than reported by a person.</summary>
    public bool IsSystem { get; init; }
}
