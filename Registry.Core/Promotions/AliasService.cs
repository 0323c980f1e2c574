using System.Text.RegularExpressions;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Promotions;

/// <summary>Named aliases (<c>champion</c>, <c>challenger</c>) set, moved and removed by approvers, with history and audit.</summary>
public sealed partial class AliasService(
    IDbContextFactory<RegistryDbContext> dbFactory,
    IDatabaseErrors databaseErrors,
    TimeProvider clock,
    AccessGuard guard,
    PromotionSignal signal)
{
    public const int MaxLength = 63;

    /// <summary>Stage names read as stages, not aliases; "latest" would suggest it follows uploads, which an alias does not.</summary>
    private static readonly HashSet<string> Reserved = ["none", "staging", "production", "archived", "latest"];

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex AliasPattern();

    public static RegistryError? CheckName(string alias)
    {
        if (alias.Length > MaxLength || !AliasPattern().IsMatch(alias))
            return RegistryError.BadRequest("Invalid alias",
                $"An alias is lower-case letters, digits and '-', starts with a letter and has at most {MaxLength} characters; '{Rules.Shorten(alias)}' does not qualify.");
        if (Reserved.Contains(alias))
            return RegistryError.BadRequest("Reserved alias", $"'{alias}' is reserved (stage names and 'latest'); choose another alias, such as 'champion'.");
        return null;
    }

    /// <summary>Points the alias at a version (creating it, or moving it). The version's latest validation must have passed.</summary>
    public async Task<Result<AliasView>> SetAsync(string modelName, string alias, AliasInput input, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ManageAliases, ct) is { } denied) return denied;
        if (CheckName(alias) is { } badName) return badName;
        if (input.Version is not { } number)
            return RegistryError.Invalid("Version needed", "Say which version the alias points to: {\"version\": 3}.",
                new Dictionary<string, string[]> { ["version"] = ["A version number is needed."] });
        if (PromotionService.CheckComment(input.Comment, "comment") is { } badComment) return badComment;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var model = await ServingQueries.ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var version = await db.Versions.Where(v => v.ModelId == model.Id && v.Number == number)
            .Select(v => new { v.Id, v.Number }).SingleOrDefaultAsync(ct);
        if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, number, ct);
        var latest = await db.ValidationRuns.Where(r => r.VersionId == version.Id).OrderByDescending(r => r.Id)
            .Select(r => new { r.Status, r.Checks }).FirstOrDefaultAsync(ct);
        if (VersionLifecycle.ValidationBlocker($"{model.Name} v{number}", latest?.Status, latest?.Checks ?? []) is { } blocker)
            return new RegistryError(ErrorKind.Conflict, "Validation has not passed", $"Services resolve aliases to serve them: {blocker}");

        var now = clock.GetUtcNow();
        var existing = await db.ModelAliases.Include(a => a.Version).SingleOrDefaultAsync(a => a.ModelId == model.Id && a.Name == alias, ct);
        if (existing?.VersionId == version.Id)
            return new AliasView(alias, number, existing.UpdatedAt, existing.UpdatedBy); // already there: nothing to record
        var (previous, previousId) = (existing?.Version.Number, existing?.VersionId);
        if (existing is null)
            db.ModelAliases.Add(new ModelAlias { ModelId = model.Id, Name = alias, VersionId = version.Id, UpdatedAt = now, UpdatedBy = actor.AuditName });
        else
        {
            existing.VersionId = version.Id;
            existing.UpdatedAt = now;
            existing.UpdatedBy = actor.AuditName;
        }
        db.ModelHistory.Add(new ModelHistoryEntry
        {
            ModelId = model.Id, Kind = HistoryKind.Alias, At = now, Alias = alias, VersionId = version.Id, PreviousVersionId = previousId,
            Actor = actor.AuditName, Reason = input.Comment?.Trim() is { Length: > 0 } c ? c : null,
        });
        db.Record(now, actor, "alias.set", $"alias:{model.Name}/{alias}",
            before: previous is null ? null : new { version = previous }, after: new { version = number, input.Comment });
        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (databaseErrors.IsUniqueViolation(ex))
        {
            return new RegistryError(ErrorKind.Conflict, "Alias changed concurrently", $"Alias '{alias}' was set by someone else at the same moment; look again and retry.");
        }
        signal.Announce(model.Name);
        return new AliasView(alias, number, now, actor.AuditName);
    }

    public async Task<Result<AliasView>> RemoveAsync(string modelName, string alias, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ManageAliases, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var model = await ServingQueries.ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var existing = await db.ModelAliases.Include(a => a.Version).SingleOrDefaultAsync(a => a.ModelId == model.Id && a.Name == alias.ToLowerInvariant(), ct);
        if (existing is null)
            return ServingQueries.AliasNotFound(model.Name, alias);
        var now = clock.GetUtcNow();
        db.ModelAliases.Remove(existing);
        db.ModelHistory.Add(new ModelHistoryEntry
        {
            ModelId = model.Id, Kind = HistoryKind.Alias, At = now, Alias = existing.Name, VersionId = null, PreviousVersionId = existing.VersionId,
            Actor = actor.AuditName, Reason = "Alias removed.",
        });
        db.Record(now, actor, "alias.removed", $"alias:{model.Name}/{existing.Name}", before: new { version = existing.Version.Number });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        signal.Announce(model.Name);
        return new AliasView(existing.Name, existing.Version.Number, now, actor.AuditName);
    }
}

/// <summary>A model's promotion policy: read by anyone who reads the model, changed by approvers, with audit.</summary>
public sealed class PolicyService(
    IDbContextFactory<RegistryDbContext> dbFactory,
    TimeProvider clock,
    AccessGuard guard,
    IValidator<PromotionPolicy> validator,
    IOptions<PromotionOptions> options,
    PromotionSignal signal)
{
    public async Task<Result<PolicyView>> GetAsync(string modelName, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await ServingQueries.ModelAsync(db, modelName, ct);
        if (model is null) return CatalogQueries.ModelNotFound(modelName);
        var own = await db.ModelPolicies.AsNoTracking().SingleOrDefaultAsync(p => p.ModelId == model.Id, ct);
        return own is null
            ? new PolicyView(model.Name, options.Value.DefaultPolicy, true, null, null)
            : new PolicyView(model.Name, own.Policy, false, own.UpdatedAt, own.UpdatedBy);
    }

    /// <summary>Replaces the model's policy. Open requests are judged by it from their next evaluation on.</summary>
    public async Task<Result<PolicyView>> SetAsync(string modelName, PromotionPolicy policy, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ManagePolicy, ct) is { } denied) return denied;
        var validation = await validator.ValidateAsync(policy, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid policy");
        // Counts left out of the request keep their defaults, stated explicitly in what is stored.
        policy = policy with
        {
            RequiredApprovals = new ApprovalCounts
            {
                Staging = policy.RequiredApprovals.Staging ?? 0,
                Production = policy.RequiredApprovals.Production ?? 1,
                Archived = policy.RequiredApprovals.Archived ?? 0,
            },
        };

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var model = await ServingQueries.ModelAsync(db, modelName, ct);
            if (model is null) return CatalogQueries.ModelNotFound(modelName);
            var now = clock.GetUtcNow();
            var own = await db.ModelPolicies.SingleOrDefaultAsync(p => p.ModelId == model.Id, ct);
            var before = own?.Policy ?? options.Value.DefaultPolicy;
            if (own is null)
                db.ModelPolicies.Add(new ModelPolicy { ModelId = model.Id, Policy = policy, UpdatedAt = now, UpdatedBy = actor.AuditName });
            else
            {
                own.Policy = policy;
                own.UpdatedAt = now;
                own.UpdatedBy = actor.AuditName;
            }
            db.Record(now, actor, "policy.updated", $"model:{model.Name}", before: before, after: policy);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            signal.Announce(model.Name); // a looser policy may make an open request ready
        }
        return await GetAsync(modelName, ct);
    }
}
