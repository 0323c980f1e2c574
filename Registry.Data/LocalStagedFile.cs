using Microsoft.Extensions.Logging;
using Registry.Core.Storage;

namespace Registry.Data;

/// <summary>
/// A staged upload held in a temporary file. Disposing it deletes the file if it is still there (a store
/// that moved it into place leaves nothing to delete) and disposes the <see cref="Companion"/>.
/// </summary>
public sealed class LocalStagedFile(string path, ILogger logger) : StagedArtifact
{
    /// <summary>The temporary file.</summary>
    public string Path { get; } = path;

    /// <summary>Extra state a store keeps with the staged bytes (a remote store's pending upload).</summary>
    public IAsyncDisposable? Companion { get; set; }

    public override Stream OpenRead() =>
        new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (Companion is not null) await Companion.DisposeAsync();
        }
        finally
        {
            if (File.Exists(Path)) LocalStaging.TryDelete(Path, logger);
        }
    }
}
