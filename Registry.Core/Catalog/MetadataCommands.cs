using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Persistence;

namespace Registry.Core.Catalog;

/// <summary>
/// Edits of the words about a model or a version: description, tags and card. Everything else about
/// a version stays as uploaded. A field the request leaves out is kept, a null clears it; a change is
/// audited with what it was and what it became, in the same save.
/// </summary>
public sealed class MetadataCommands(
    IDbContextFactory<RegistryDbContext> dbFactory,
    TimeProvider clock,
    CatalogQueries queries,
    IValidator<UpdateMetadataRequest> validator,
    AccessGuard guard)
{
    public async Task<Result<ModelView>> UpdateModelAsync(string name, UpdateMetadataRequest request, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        var validation = await validator.ValidateAsync(request, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid model metadata");

        var normalized = RegisteredModel.Normalize(name);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var model = await db.Models.SingleOrDefaultAsync(m => m.NormalizedName == normalized, ct);
            if (model is null) return CatalogQueries.ModelNotFound(name);

            var change = Apply(request, new Editable(() => model.Description, d => model.Description = d, model.Tags, () => model.Card, c => model.Card = c));
            if (change is { } c)
            {
                var now = clock.GetUtcNow();
                model.UpdatedAt = now;
                db.Record(now, actor, "model.updated", $"model:{model.Name}", before: c.Before, after: c.After);
                await db.SaveChangesAsync(ct);
            }
        }
        return await queries.GetModelAsync(name, ct);
    }

    public async Task<Result<VersionView>> UpdateVersionAsync(string name, int number, UpdateMetadataRequest request, Actor actor,
        CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        var validation = await validator.ValidateAsync(request, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid version metadata");

        var normalized = RegisteredModel.Normalize(name);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var version = await db.Versions.Include(v => v.Model)
                .SingleOrDefaultAsync(v => v.Model.NormalizedName == normalized && v.Number == number, ct);
            if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, name, number, ct);

            var change = Apply(request, new Editable(() => version.Description, d => version.Description = d, version.Tags, () => version.Card, c => version.Card = c));
            if (change is { } c)
            {
                var now = clock.GetUtcNow();
                version.Model.UpdatedAt = now;
                db.Record(now, actor, "version.updated", $"version:{version.Model.Name}/{number}", before: c.Before, after: c.After);
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateConcurrencyException)
                {
                    // The stage is a concurrency token: it moved (a promotion) between our read and our write.
                    return new RegistryError(ErrorKind.Conflict, "Version changed",
                        $"{version.Model.Name} v{number} changed while it was being edited; read it again and retry.");
                }
            }
        }
        return await queries.GetVersionAsync(name, number, ct);
    }

    private sealed record Editable(Func<string?> Description, Action<string?> SetDescription, List<Tag> Tags, Func<string?> Card, Action<string?> SetCard);

    /// <summary>Applies the fields sent; returns what changed (before and after), or null when nothing did.</summary>
    private static (Dictionary<string, object?> Before, Dictionary<string, object?> After)? Apply(UpdateMetadataRequest request, Editable target)
    {
        var before = new Dictionary<string, object?>();
        var after = new Dictionary<string, object?>();
        if (request.HasDescription && !string.Equals(target.Description(), Blank(request.Description), StringComparison.Ordinal))
        {
            before["description"] = target.Description();
            target.SetDescription(Blank(request.Description));
            after["description"] = target.Description();
        }
        if (request.HasTags)
        {
            var old = target.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            if (ReplaceTags(target.Tags, request.Tags ?? []))
            {
                before["tags"] = old;
                after["tags"] = target.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            }
        }
        if (request.HasCard && !string.Equals(target.Card(), Blank(request.Card), StringComparison.Ordinal))
        {
            before["card"] = target.Card();
            target.SetCard(Blank(request.Card));
            after["card"] = target.Card();
        }
        return after.Count == 0 ? null : (before, after);
    }

    /// <summary>An empty or all-blank text means none: stored as null, so that "no card" has one representation.</summary>
    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>Makes <paramref name="tags"/> hold exactly <paramref name="wanted"/>, touching only the rows that differ.</summary>
    private static bool ReplaceTags(List<Tag> tags, Dictionary<string, string> wanted)
    {
        var changed = tags.RemoveAll(t => !wanted.ContainsKey(t.Key)) > 0;
        foreach (var (key, value) in wanted)
        {
            var existing = tags.Find(t => t.Key == key);
            if (existing is null)
            {
                tags.Add(new Tag { Key = key, Value = value });
                changed = true;
            }
            else if (existing.Value != value)
            {
                existing.Value = value;
                changed = true;
            }
        }
        return changed;
    }
}
