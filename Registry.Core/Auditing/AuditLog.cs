using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Persistence;

namespace Registry.Core.Auditing;

public static class AuditLog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Adds an audit event to the unit of work, so that it commits (or not) with the change it describes.</summary>
    public static void Record(this RegistryDbContext db, DateTimeOffset at, Actor actor, string action, string target,
        object? before = null, object? after = null) =>
        db.Record(at, actor.AuditName, actor.ClientAddress, action, target, before, after);

    public static void Record(this RegistryDbContext db, DateTimeOffset at, string actor, string? clientAddress, string action, string target,
        object? before = null, object? after = null)
    {
        db.AuditEvents.Add(new AuditEvent
        {
            // Stored to the millisecond, so that the hash of what is read back is the hash of what was written.
            At = new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero),
            Actor = actor,
            ClientAddress = clientAddress,
            Action = action,
            Target = target,
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
        });
    }
}

/// <summary>The hash chain over audit events.</summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    /// <summary>
    /// Chains events written before the audit log was hash-chained (they have no hash yet), once, at
    /// start-up after the upgrade. What happened to them before that cannot be proven either way.
    /// Only events older than every hashed one are such: since the upgrade every event is hashed as it
    /// is written, so an event without a hash after a hashed one had its hash blanked. It stays as it
    /// is, and verifying the chain reports it, rather than being sealed into looking intact.
    /// </summary>
    public static async Task<int> SealUnhashedAsync(RegistryDbContext db, CancellationToken ct = default)
    {
        var firstHashed = await db.AuditEvents.AsNoTracking().Where(e => e.Hash != "").OrderBy(e => e.Id).Select(e => (long?)e.Id).FirstOrDefaultAsync(ct);
        var unhashed = await db.AuditEvents.AsNoTracking().Where(e => e.Hash == "" && (firstHashed == null || e.Id < firstHashed))
            .OrderBy(e => e.Id).ToListAsync(ct);
        if (unhashed.Count == 0) return 0;
        var previous = Genesis; // nothing hashed comes before them
        foreach (var e in unhashed)
        {
            e.PreviousHash = previous;
            e.Hash = HashOf(e);
            previous = e.Hash;
            var (id, prev, hash) = (e.Id, e.PreviousHash, e.Hash);
            await db.AuditEvents.Where(x => x.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.PreviousHash, prev).SetProperty(x => x.Hash, hash), ct);
        }
        return unhashed.Count;
    }

    /// <summary>SHA-256 over the previous hash and the event's fields, each length-prefixed so that no two events encode alike.</summary>
    public static string HashOf(AuditEvent e)
    {
        var canonical = new StringBuilder();
        foreach (var field in new[]
        {
            e.PreviousHash, e.At.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Actor, e.ClientAddress, e.Action, e.Target, e.Before, e.After,
        })
        {
            var value = field ?? "\u0000null";
            canonical.Append(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}
