namespace Registry.Data;

/// <summary>The names <c>Registry:Database:Provider</c> accepts.</summary>
public static class DatabaseProviders
{
    /// <summary>SQLite in the data folder: the embedded default.</summary>
    public const string Sqlite = "Sqlite";

    /// <summary>PostgreSQL, shared by several instances.</summary>
    public const string PostgreSql = "PostgreSql";

    /// <summary>Every accepted name.</summary>
    public static readonly IReadOnlyList<string> All = [Sqlite, PostgreSql];
}
