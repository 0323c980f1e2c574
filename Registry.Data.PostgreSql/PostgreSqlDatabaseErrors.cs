using Microsoft.EntityFrameworkCore;
using Npgsql;
using Registry.Core.Persistence;

namespace Registry.Data.PostgreSql;

/// <summary>PostgreSQL's SQLSTATEs for a taken unique key and for a write that may succeed when tried again.</summary>
internal sealed class PostgreSqlDatabaseErrors : IDatabaseErrors
{
    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public bool IsBusy(Exception exception) =>
        (exception as PostgresException ?? exception.InnerException as PostgresException) is
        { SqlState: PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };
}
