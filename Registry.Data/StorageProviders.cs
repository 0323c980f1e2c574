namespace Registry.Data;

/// <summary>The names <c>Registry:Storage:Provider</c> accepts.</summary>
public static class StorageProviders
{
    /// <summary>Artifacts as files in the data folder: the embedded default.</summary>
    public const string FileSystem = "FileSystem";

    /// <summary>Artifacts as objects in an S3-compatible bucket, shared by several instances.</summary>
    public const string S3 = "S3";

    /// <summary>Every accepted name.</summary>
    public static readonly IReadOnlyList<string> All = [FileSystem, S3];
}
