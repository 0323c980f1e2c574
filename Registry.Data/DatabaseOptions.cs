namespace Registry.Data;

/// <summary>Which database holds the catalogue (configuration section <c>Registry:Database</c>).</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Registry:Database";

    /// <summary><c>Sqlite</c> (the default: one file in the data folder) or <c>PostgreSql</c> (shared by several instances).</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>
    /// The provider's connection string. For SQLite the default is <c>registry.db</c> in the data
    /// folder; PostgreSQL needs one (<c>Host=…;Database=…;Username=…;Password=…</c>). It is never logged.
    /// </summary>
    public string? ConnectionString { get; set; }
}
