using Microsoft.EntityFrameworkCore;

namespace Registry.Core.Persistence;

/// <summary>Recognises provider-specific failures that the domain treats as expected outcomes.</summary>
public interface IDatabaseErrors
{
    /// <summary>True when the update failed because a unique index already holds the value.</summary>
    bool IsUniqueViolation(DbUpdateException exception);
}
