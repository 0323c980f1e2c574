namespace Registry.Core;

/// <summary>
/// Something a provider verifies before the server takes requests: the database or the object store
/// is reachable and set up. A failure throws <see cref="StartupException"/>.
/// </summary>
public interface IStartupCheck
{
    /// <summary>Verifies, and prepares what is missing and may be made (migrations, folders).</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
