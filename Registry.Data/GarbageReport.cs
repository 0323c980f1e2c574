namespace Registry.Data;

/// <summary>What one collection removed: temporary files and sandbox folders by name, artifacts by key, and the bytes freed in the store.</summary>
public sealed record GarbageReport(IReadOnlyList<string> Temporary, IReadOnlyList<string> Sandboxes, IReadOnlyList<string> Artifacts, long ArtifactBytes)
{
    /// <summary>True when nothing was removed.</summary>
    public bool IsEmpty => Temporary.Count == 0 && Sandboxes.Count == 0 && Artifacts.Count == 0;
}
