using Microsoft.Extensions.Configuration.Memory;

namespace Registry.Web;

/// <summary>
/// The server's settings that must hold whatever its working directory: where it listens, the host
/// names it answers to and the log levels (no SQL statements in the log). They are the lowest layer
/// of configuration, below <c>appsettings.json</c> (which a service started from another folder does
/// not find), environment variables and arguments, so any of those still overrides them.
/// </summary>
public static class RegistryDefaults
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["Urls"] = "http://localhost:5080",
        ["AllowedHosts"] = "localhost;127.0.0.1;[::1]",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
    };

    /// <summary>Puts <see cref="Settings"/> beneath every other configuration source.</summary>
    public static ConfigurationManager AddRegistryDefaults(this ConfigurationManager configuration)
    {
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Settings });
        return configuration;
    }
}
