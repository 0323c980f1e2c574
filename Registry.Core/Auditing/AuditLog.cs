using System.Text.Json;
using Registry.Core.Persistence;

namespace Registry.Core.Auditing;

public static class AuditLog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Adds an audit event to the unit of work, so that it commits (or not) with the change it describes.</summary>
    public static void Record(this RegistryDbContext db, DateTimeOffset at, string actor, string action, string target,
        object? before = null, object? after = null)
    {
        db.AuditEvents.Add(new AuditEvent
        {
            At = at,
            Actor = actor,
            Action = action,
            Target = target,
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
        });
    }
}
