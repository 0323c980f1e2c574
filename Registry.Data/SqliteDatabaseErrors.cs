using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Persistence;

namespace Registry.Data;

/// <summary>SQLite's result codes for a taken unique key and for a lock held past the busy timeout.</summary>
internal sealed class SqliteDatabaseErrors : IDatabaseErrors
{
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintPrimaryKey = 1555;

    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is SqliteException { SqliteErrorCode: SqliteConstraint } e &&
        e.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey;

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public bool IsBusy(Exception exception) =>
        (exception as SqliteException ?? exception.InnerException as SqliteException) is { SqliteErrorCode: SqliteBusy or SqliteLocked };
}
