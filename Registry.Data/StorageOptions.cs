namespace Registry.Data;

/// <summary>Where the registry keeps its database and artifacts (configuration section <c>Registry:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Registry:Storage";

    /// <summary>
    /// The data folder: the SQLite database, <c>artifacts/</c> and <c>tmp/</c> live here. A relative
    /// path is resolved against the current directory. Default <c>data</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// An explicit SQLite connection string. Default: a <c>registry.db</c> file in the data folder.
    /// </summary>
    public string? ConnectionString { get; set; }
}

/// <summary>The absolute paths derived from <see cref="StorageOptions"/>.</summary>
public sealed class DataPaths
{
    public DataPaths(StorageOptions options)
    {
        Root = Path.GetFullPath(options.DataDirectory);
        Artifacts = Path.Combine(Root, "artifacts");
        Temp = Path.Combine(Root, "tmp");
        Database = Path.Combine(Root, "registry.db");
        ConnectionString = options.ConnectionString ?? $"Data Source={Database};Pooling=True";
    }

    public string Root { get; }

    /// <summary>Content-addressed files: <c>artifacts/sha256/ab/abcd…</c>.</summary>
    public string Artifacts { get; }

    /// <summary>Uploads in progress; on the same file system as <see cref="Artifacts"/> so that a rename is atomic.</summary>
    public string Temp { get; }

    public string Database { get; }

    public string ConnectionString { get; }
}
