namespace Registry.Core.Storage;

/// <summary>
/// Stored bytes as a file on this machine. A store that keeps files locally hands out the stored file
/// itself and removes nothing; a remote store downloads a copy and removes it on disposal.
/// </summary>
public sealed class LocalArtifactCopy(string path, Func<ValueTask>? cleanup = null) : IAsyncDisposable
{
    private Func<ValueTask>? _cleanup = cleanup;

    /// <summary>The full path of the file.</summary>
    public string Path { get; } = path;

    public async ValueTask DisposeAsync()
    {
        var cleanup = Interlocked.Exchange(ref _cleanup, null);
        if (cleanup is not null) await cleanup();
    }
}
