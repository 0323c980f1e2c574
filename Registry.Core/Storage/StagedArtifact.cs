namespace Registry.Core.Storage;

/// <summary>
/// An upload that has been received and hashed but is not yet part of the catalogue. Disposing it
/// discards the staged bytes unless they were committed.
/// </summary>
public abstract class StagedArtifact : IAsyncDisposable
{
    /// <summary>Lower-case hex SHA-256 of the bytes.</summary>
    public required string Sha256 { get; init; }

    /// <summary>How many bytes were received.</summary>
    public required long SizeBytes { get; init; }

    /// <summary>Opens the staged bytes for inspection (a seekable stream).</summary>
    public abstract Stream OpenRead();

    public abstract ValueTask DisposeAsync();
}
