using System.Text.Json.Serialization;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Persistence;

namespace Registry.Core.Catalog;

public enum LineageDirection
{
    Both,
    Upstream,
    Downstream,
}

/// <summary>The lineage around one version: versions, datasets and sources as nodes, their relations as edges.</summary>
public sealed record LineageGraph(string Root, int Depth, string Direction, IReadOnlyList<LineageNode> Nodes, IReadOnlyList<LineageEdge> Edges, bool Truncated);

/// <summary>
/// A node with a stable id: <c>version:teacher/3</c>, <c>dataset:name@digest-or-uri</c>, <c>source:commit</c>.
/// Only the fields of its kind are present.
/// </summary>
public sealed record LineageNode(
    string Id,
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Version = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Stage? Stage = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Uri = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Digest = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Commit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RunUrl = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Href = null);

/// <summary>
/// An edge reads "from relation to": <c>version:student/1 distilled-from version:teacher/3</c>; a version
/// points at its datasets with <c>dataset</c> and at its source with <c>source</c>.
/// </summary>
public sealed record LineageEdge(string From, string To, string Relation);

/// <summary>The body of <c>POST …/versions/{version}/lineage</c>: parents and datasets to add to a version.</summary>
public sealed record AddLineageRequest
{
    public List<ParentInput>? Parents { get; init; }
    public List<DatasetInput>? Datasets { get; init; }
}

/// <summary>The upload's lineage rules for parents and datasets (the same validator), and at least one of them.</summary>
public sealed class AddLineageRequestValidator : AbstractValidator<AddLineageRequest>
{
    private static readonly LineageValidator Lineage = new();

    public AddLineageRequestValidator()
    {
        RuleFor(r => r).Custom((r, ctx) =>
        {
            if (r.Parents is not { Count: > 0 } && r.Datasets is not { Count: > 0 })
            {
                ctx.AddFailure("parents", "Send at least one parent or dataset: {\"parents\": [{\"model\": \"teacher\", \"version\": 3, \"relation\": \"distilled-from\"}]}.");
                return;
            }
            foreach (var failure in Lineage.Validate(new LineageInput { Parents = r.Parents, Datasets = r.Datasets }).Errors)
                ctx.AddFailure(failure);
        });
    }
}

/// <summary>Reads the lineage graph around a version, and adds parents and datasets to a version after upload.</summary>
public sealed class LineageService(
    IDbContextFactory<RegistryDbContext> dbFactory,
    IValidator<AddLineageRequest> validator,
    AccessGuard guard,
    TimeProvider clock,
    CatalogQueries queries)
{
    public const int DefaultDepth = 3;
    public const int MaxDepth = 10;
    public const int MaxNodes = 500;

    public static string VersionId(string model, int version) => $"version:{model}/{version}";

    public static string DatasetId(string name, string? uri, string? digest) =>
        digest is not null ? $"dataset:{name}@{digest}" : uri is not null ? $"dataset:{name}@{uri}" : $"dataset:{name}";

    public static string VersionHref(string model, int version) => $"/models/{Uri.EscapeDataString(model)}/versions/{version}";

    /// <summary>
    /// Breadth-first from the version, one query per level and direction: upstream follows parents,
    /// downstream follows children (versions whose parents include the current ones). Every version
    /// reached brings its datasets and source. At most <see cref="MaxNodes"/> nodes; beyond, Truncated.
    /// </summary>
    public async Task<Result<LineageGraph>> GetGraphAsync(string model, int version, int? depth, string? direction, CancellationToken ct = default)
    {
        var d = depth ?? DefaultDepth;
        if (d is < 1 or > MaxDepth)
            return RegistryError.BadRequest("Invalid depth", $"depth must be between 1 and {MaxDepth}; got {d}.");
        if (Rules.ParseName<LineageDirection>(direction ?? "both") is not { } dir)
            return RegistryError.BadRequest("Invalid direction", $"direction is both, upstream or downstream; got '{direction}'.");

        var normalized = RegisteredModel.Normalize(model);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rootId = await db.Versions.AsNoTracking().Where(v => v.Model.NormalizedName == normalized && v.Number == version)
            .Select(v => (long?)v.Id).SingleOrDefaultAsync(ct);
        if (rootId is not { } root) return await CatalogQueries.VersionNotFoundAsync(db, model, version, ct);

        var versions = new HashSet<long> { root };
        var edges = new HashSet<(long Child, long Parent, string Relation)>();
        var truncated = false;
        foreach (var upstream in new[] { true, false })
        {
            if (upstream ? dir == LineageDirection.Downstream : dir == LineageDirection.Upstream) continue;
            var frontier = new List<long> { root };
            for (var level = 0; level < d && frontier.Count > 0 && !truncated; level++)
            {
                var ids = frontier;
                var found = upstream
                    ? await db.VersionParents.AsNoTracking().Where(p => ids.Contains(p.VersionId))
                        .Select(p => new { p.VersionId, p.ParentVersionId, p.Relation }).ToListAsync(ct)
                    : await db.VersionParents.AsNoTracking().Where(p => ids.Contains(p.ParentVersionId))
                        .Select(p => new { p.VersionId, p.ParentVersionId, p.Relation }).ToListAsync(ct);
                frontier = [];
                foreach (var e in found.OrderBy(e => e.VersionId).ThenBy(e => e.ParentVersionId))
                {
                    var next = upstream ? e.ParentVersionId : e.VersionId;
                    if (!versions.Contains(next))
                    {
                        if (versions.Count >= MaxNodes) { truncated = true; break; }
                        versions.Add(next);
                        frontier.Add(next);
                    }
                    edges.Add((e.VersionId, e.ParentVersionId, e.Relation));
                }
            }
        }

        var ids2 = versions.ToList();
        var rows = await db.Versions.AsNoTracking().Where(v => ids2.Contains(v.Id))
            .Select(v => new
            {
                v.Id, Model = v.Model.Name, v.Number, v.Stage, v.SourceCommit, v.SourceRunUrl,
                Datasets = v.Datasets.Select(x => new { x.Name, x.Uri, x.Digest }).ToList(),
            }).ToListAsync(ct);
        var datasets = rows.SelectMany(v => v.Datasets.Select(x => new { v.Id, x.Name, x.Uri, x.Digest })).ToList();
        var byId = rows.ToDictionary(r => r.Id);

        var nodes = new Dictionary<string, LineageNode>(StringComparer.Ordinal);
        var graphEdges = new HashSet<LineageEdge>();
        foreach (var r in rows)
            nodes[VersionId(r.Model, r.Number)] = new LineageNode(VersionId(r.Model, r.Number), "version",
                Model: r.Model, Version: r.Number, Stage: r.Stage, Href: VersionHref(r.Model, r.Number));
        foreach (var (child, parent, relation) in edges)
            graphEdges.Add(new LineageEdge(VersionId(byId[child].Model, byId[child].Number), VersionId(byId[parent].Model, byId[parent].Number), relation));

        foreach (var r in rows.OrderBy(r => r.Id))
        {
            if (r.SourceCommit is null && r.SourceRunUrl is null) continue;
            var id = $"source:{r.SourceCommit ?? r.SourceRunUrl}";
            if (!nodes.ContainsKey(id))
            {
                if (nodes.Count >= MaxNodes) { truncated = true; continue; }
                nodes[id] = new LineageNode(id, "source", Commit: r.SourceCommit, RunUrl: r.SourceRunUrl);
            }
            graphEdges.Add(new LineageEdge(VersionId(r.Model, r.Number), id, "source"));
        }
        foreach (var x in datasets.OrderBy(x => x.Id))
        {
            var id = DatasetId(x.Name, x.Uri, x.Digest);
            if (!nodes.ContainsKey(id))
            {
                if (nodes.Count >= MaxNodes) { truncated = true; continue; }
                nodes[id] = new LineageNode(id, "dataset", Name: x.Name, Uri: x.Uri, Digest: x.Digest);
            }
            var owner = byId[x.Id];
            graphEdges.Add(new LineageEdge(VersionId(owner.Model, owner.Number), id, "dataset"));
        }

        var rootKey = VersionId(byId[root].Model, byId[root].Number);
        return new LineageGraph(rootKey, d, dir.ToString().ToLowerInvariant(),
            nodes.Values.OrderBy(n => n.Id != rootKey).ThenBy(n => n.Kind, StringComparer.Ordinal).ThenBy(n => n.Id, StringComparer.Ordinal).ToList(),
            graphEdges.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal).ToList(),
            truncated);
    }

    /// <summary>
    /// Adds parents and datasets to an existing version (lineage only grows: nothing is changed or
    /// removed). Refused, with nothing written: an unknown parent (422, as at upload), a parent that
    /// is the version itself or one of its descendants (409, with the path), a parent or dataset the
    /// version already has (409).
    /// </summary>
    public async Task<Result<LineageView>> AddAsync(string model, int version, AddLineageRequest request, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        var validation = await validator.ValidateAsync(request, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid lineage");

        var normalized = RegisteredModel.Normalize(model);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Inside one write transaction: two concurrent additions cannot together make a cycle.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var target = await db.Versions.Include(v => v.Datasets).Include(v => v.Model)
                .SingleOrDefaultAsync(v => v.Model.NormalizedName == normalized && v.Number == version, ct);
            if (target is null) return await CatalogQueries.VersionNotFoundAsync(db, model, version, ct);
            var name = $"{target.Model.Name} v{target.Number}";

            var parents = await CatalogCommands.ResolveParentsAsync(db, request.Parents, "parents", ct);
            if (!parents.IsSuccess) return parents.Error!;

            var existing = await db.VersionParents.AsNoTracking().Where(p => p.VersionId == target.Id).Select(p => p.ParentVersionId).ToListAsync(ct);
            for (var i = 0; i < parents.Value.Count; i++)
            {
                var (id, input) = parents.Value[i];
                if (existing.Contains(id))
                    return Conflict("Parent already recorded", $"parents[{i}]", $"{input.Model} v{input.Version} is already a parent of {name}; lineage is only added, never changed.");
            }
            for (var i = 0; i < (request.Datasets?.Count ?? 0); i++)
            {
                var d = request.Datasets![i];
                if (target.Datasets.Any(x => x.Name == d.Name && x.Uri == d.Uri && x.Digest == d.Digest))
                    return Conflict("Dataset already recorded", $"datasets[{i}]", $"Dataset '{d.Name}' is already recorded on {name} with the same URI and digest.");
            }

            if (parents.Value.Count > 0 && await FindCycleAsync(db, target.Id, parents.Value, ct) is { } cycle)
                return Conflict("Lineage cycle", $"parents[{cycle.Index}]",
                    $"{cycle.Parent} cannot be a parent of {name}: it {(cycle.Path.Count == 1 ? "is that version itself" : "descends from it")} ({string.Join(" → ", cycle.Path)}), and lineage must not go round in a circle.");

            var now = clock.GetUtcNow();
            foreach (var (id, input) in parents.Value)
                db.VersionParents.Add(new VersionParent { VersionId = target.Id, ParentVersionId = id, Relation = input.Relation! });
            foreach (var d in request.Datasets ?? [])
                target.Datasets.Add(new DatasetRef { Name = d.Name!, Uri = d.Uri, Digest = d.Digest });
            db.Record(now, actor, "lineage.added", $"version:{target.Model.Name}/{target.Number}", after: new
            {
                parents = parents.Value.Select(p => new { p.Input.Model, p.Input.Version, p.Input.Relation }),
                datasets = (request.Datasets ?? []).Select(d => new { d.Name, d.Uri, d.Digest }),
            });
            await db.SaveChangesAsync(ct);
            await db.Models.Where(m => m.Id == target.ModelId).ExecuteUpdateAsync(s => s.SetProperty(m => m.UpdatedAt, now), ct);
            await tx.CommitAsync(ct);
        }
        var view = await queries.GetVersionAsync(model, version, CancellationToken.None);
        return view.IsSuccess ? view.Value.Lineage : view.Error!;
    }

    private static RegistryError Conflict(string title, string field, string detail) =>
        new(ErrorKind.Conflict, title, detail, new Dictionary<string, string[]> { [field] = [detail] });

    /// <summary>
    /// Walks down from the version (one query per level) to see whether a proposed parent is the
    /// version itself or one of its descendants; returns the first such parent with the path to it.
    /// </summary>
    private static async Task<(int Index, string Parent, IReadOnlyList<string> Path)?> FindCycleAsync(RegistryDbContext db, long self,
        IReadOnlyList<(long Id, ParentInput Input)> parents, CancellationToken ct)
    {
        var cameFrom = new Dictionary<long, long?> { [self] = null };
        var frontier = new List<long> { self };
        while (frontier.Count > 0)
        {
            var ids = frontier;
            var children = await db.VersionParents.AsNoTracking().Where(p => ids.Contains(p.ParentVersionId))
                .Select(p => new { p.VersionId, p.ParentVersionId }).ToListAsync(ct);
            frontier = [];
            foreach (var c in children)
                if (cameFrom.TryAdd(c.VersionId, c.ParentVersionId)) frontier.Add(c.VersionId);
        }
        for (var i = 0; i < parents.Count; i++)
        {
            if (!cameFrom.ContainsKey(parents[i].Id)) continue;
            var chain = new List<long>();
            for (long? at = parents[i].Id; at is { } a; at = cameFrom[a]) chain.Add(a);
            chain.Reverse();
            var labels = await db.Versions.AsNoTracking().Where(v => chain.Contains(v.Id))
                .Select(v => new { v.Id, v.Model.Name, v.Number }).ToDictionaryAsync(v => v.Id, ct);
            var path = chain.Select(id => $"{labels[id].Name} v{labels[id].Number}").ToList();
            return (i, path[^1], path);
        }
        return null;
    }
}
