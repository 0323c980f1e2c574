using Microsoft.EntityFrameworkCore;

namespace Registry.Core.Persistence;

/// <summary>Recognises provider-specific failures that the domain treats as expected outcomes.</summary>
public interface IDatabaseErrors
{
    /// <summary>True when the update failed because a unique index already holds the value.</summary>
    bool IsUniqueViolation(DbUpdateException exception);

    /// <summary>True when the database stayed locked by other writers for longer than its busy timeout.</summary>
    bool IsBusy(Exception exception);
}
