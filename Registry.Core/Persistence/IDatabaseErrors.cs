using Microsoft.EntityFrameworkCore;

namespace Registry.Core.Persistence;

/// <summary>Recognises provider-specific failures that the domain treats as expected outcomes.</summary>
public interface IDatabaseErrors
{
    /// <summary>True when the update failed because a unique index already holds the value.</summary>
    bool IsUniqueViolation(DbUpdateException exception);

    /// <summary>
    /// True when the database could not take the write now (SQLite stayed locked past its busy timeout;
    /// PostgreSQL timed out on a lock, found a deadlock or a serialisation failure): trying again later
    /// may succeed.
    /// </summary>
    bool IsBusy(Exception exception);
}
