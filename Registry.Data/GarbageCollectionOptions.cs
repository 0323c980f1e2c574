namespace Registry.Data;

/// <summary>The garbage collector of leftovers and unreferenced artifacts (configuration section <c>Registry:GarbageCollection</c>).</summary>
public sealed class GarbageCollectionOptions
{
    public const string Section = "Registry:GarbageCollection";

    /// <summary>
    /// How old (since last written) a temporary file, a sandbox folder or an unreferenced artifact must
    /// be before it is removed. Anything younger may belong to an upload or a validation still running on
    /// some instance. Default 60 minutes.
    /// </summary>
    public double GraceMinutes { get; set; } = 60;

    /// <summary>How often each instance collects. Default every 30 minutes, and once at start.</summary>
    public double IntervalMinutes { get; set; } = 30;

    /// <summary>Whether the server collects at all. Default true.</summary>
    public bool Enabled { get; set; } = true;
}
