using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Auditing;

public sealed record AuditFilter(string? Actor, string? Action, string? Target, DateTimeOffset? From, DateTimeOffset? To);

public sealed record AuditEventView(long Id, DateTimeOffset At, string Actor, string? ClientAddress, string Action, string Target,
    string? Before, string? After, string Hash);

/// <summary>The verdict on the hash chain: intact, or the first event where it breaks and why.</summary>
public sealed record AuditVerification(bool Intact, int Checked, long? BrokenAt, string? Problem);

/// <summary>Reading and checking the audit log (admins).</summary>
public sealed class AuditQueries(IDbContextFactory<RegistryDbContext> dbFactory, AccessGuard guard)
{
    public async Task<Result<PagedList<AuditEventView>>> ListAsync(Actor actor, AuditFilter filter, PageRequest page, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ReadAdministration, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var events = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(filter.Actor)) events = events.Where(e => e.Actor.Contains(filter.Actor));
        if (!string.IsNullOrWhiteSpace(filter.Action)) events = events.Where(e => e.Action.StartsWith(filter.Action));
        if (!string.IsNullOrWhiteSpace(filter.Target)) events = events.Where(e => e.Target.Contains(filter.Target));
        if (filter.From is { } from) events = events.Where(e => e.At >= from);
        if (filter.To is { } to) events = events.Where(e => e.At < to);
        var total = await events.CountAsync(ct);
        var items = await events.OrderByDescending(e => e.Id).Skip(page.Skip).Take(page.PageSize)
            .Select(e => new AuditEventView(e.Id, e.At, e.Actor, e.ClientAddress, e.Action, e.Target, e.Before, e.After, e.Hash))
            .ToListAsync(ct);
        return new PagedList<AuditEventView>(items, total, page.Page, page.PageSize);
    }

    /// <summary>Recomputes the chain from the first event; reports the first event whose stored hashes do not hold.</summary>
    public async Task<Result<AuditVerification>> VerifyAsync(Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ReadAdministration, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var previous = AuditChain.Genesis;
        var count = 0;
        long after = 0;
        while (true)
        {
            var batch = await db.AuditEvents.AsNoTracking().Where(e => e.Id > after).OrderBy(e => e.Id).Take(1000).ToListAsync(ct);
            if (batch.Count == 0) return new AuditVerification(true, count, null, null);
            foreach (var e in batch)
            {
                count++;
                if (e.PreviousHash != previous)
                    return new AuditVerification(false, count, e.Id,
                        $"Event {e.Id} does not follow the event before it: an event was removed, inserted or reordered before it.");
                if (AuditChain.HashOf(e) != e.Hash)
                    return new AuditVerification(false, count, e.Id, $"Event {e.Id} was altered after it was written: its content no longer matches its hash.");
                previous = e.Hash;
                after = e.Id;
            }
        }
    }
}
