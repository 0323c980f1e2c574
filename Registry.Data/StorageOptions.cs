namespace Registry.Data;

/// <summary>Where the registry keeps its files and its artifacts (configuration section <c>Registry:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Registry:Storage";

    /// <summary>
    /// The data folder of this instance: the SQLite database (when that is the provider),
    /// <c>artifacts/</c> (with the file-system store), <c>tmp/</c> (uploads being received, copies for
    /// sandboxes) and <c>sandbox/</c>. A relative path is resolved against the current directory.
    /// Default <c>data</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Where artifacts are kept: <c>FileSystem</c> (the default, under the data folder) or <c>S3</c>
    /// (an S3-compatible object store, configured under <c>Registry:Storage:S3</c>).
    /// </summary>
    public string Provider { get; set; } = StorageProviders.FileSystem;
}
