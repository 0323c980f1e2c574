namespace Registry.Core.Validation;

/// <summary>The walls around a validation sandbox (<c>Registry:Validation:Isolation</c>).</summary>
public enum SandboxIsolation
{
    /// <summary>
    /// Linux namespaces through bubblewrap: its own user, PID, mount, IPC, UTS and network namespaces
    /// (no network at all), a read-only view of the system folders and of the job's files only, no new
    /// privileges, and the whole PID namespace killed with it.
    /// </summary>
    Namespaces,

    /// <summary>
    /// A child process of the server, as the server's OS user, with a cleared environment: what runs
    /// when namespaces cannot be had and an operator chose it explicitly. A model that exploits the
    /// runtime could then read what the server can.
    /// </summary>
    Process,
}
