namespace Registry.Data;

/// <summary>The absolute paths derived from <see cref="StorageOptions"/>.</summary>
public sealed class DataPaths
{
    public DataPaths(StorageOptions options)
    {
        Root = Path.GetFullPath(options.DataDirectory);
        Artifacts = Path.Combine(Root, "artifacts");
        Temp = Path.Combine(Root, "tmp");
        Sandboxes = Path.Combine(Root, "sandbox");
        Database = Path.Combine(Root, "registry.db");
    }

    /// <summary>The data folder.</summary>
    public string Root { get; }

    /// <summary>Content-addressed files of the file-system store: <c>artifacts/sha256/ab/abcd…</c>.</summary>
    public string Artifacts { get; }

    /// <summary>Uploads in progress and local copies; on the same file system as <see cref="Artifacts"/> so that a rename is atomic.</summary>
    public string Temp { get; }

    /// <summary>The working folders of running validation sandboxes.</summary>
    public string Sandboxes { get; }

    /// <summary>The SQLite database file, when SQLite is the provider and no connection string is set.</summary>
    public string Database { get; }
}
