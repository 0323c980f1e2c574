using Registry.Core.Validation;

namespace Registry.Web.Validation;

/// <summary>
/// What this server can wall a sandbox in with: the isolation, the programs that build it
/// (<see cref="Bubblewrap"/>; <see cref="Prlimit"/>, which has the kernel cap the sandbox's memory, or
/// null when it is missing), and its description as runs record it (<see cref="Description"/>), or
/// why the configured isolation cannot be had (<see cref="Unavailable"/>).
/// </summary>
internal sealed record SandboxWalls(SandboxIsolation Isolation, string? Bubblewrap, string? Prlimit, string Description, string? Unavailable)
{
    public bool IsAvailable => Unavailable is null;
}
