using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Onnx;
using Registry.Core.Persistence;
using Registry.Core.Storage;
using Registry.Core.Validation;
using Microsoft.Extensions.Options;

namespace Registry.Core.Catalog;

/// <summary>
/// Changes to the catalogue: create models, add versions, log metrics. Slow work (hashing, file
/// I/O, parsing) happens before a write transaction starts; transactions stay short.
/// </summary>
public sealed class CatalogCommands(
    IDbContextFactory<RegistryDbContext> dbFactory,
    IArtifactStore artifacts,
    IDatabaseErrors databaseErrors,
    WriteUnit writes,
    TimeProvider clock,
    CatalogQueries queries,
    IValidator<VersionMetadata> metadataValidator,
    IValidator<MetricsBatch> metricsValidator,
    IValidator<CreateModelRequest> createModelValidator,
    AccessGuard guard,
    IOptions<ValidationOptions> validationOptions,
    ValidationSignal validationSignal,
    Promotions.PromotionSignal promotionSignal,
    ILogger<CatalogCommands> logger)
{
    private static readonly ModelNameValidator NameValidator = new();

    /// <summary>Checks a model name; null when it is valid.</summary>
    public RegistryError? CheckName(string? name) => NameValidator.Check(name);

    /// <summary>Checks upload metadata; null when it is valid. Cheap: no database access.</summary>
    public RegistryError? CheckMetadata(VersionMetadata metadata)
    {
        var result = metadataValidator.Validate(metadata);
        return result.IsValid ? null : InputErrors.ToError(result, "Invalid metadata");
    }

    public async Task<Result<ModelView>> CreateModelAsync(CreateModelRequest request, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        var validation = await createModelValidator.ValidateAsync(request, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid model");

        var name = request.Name!;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var now = clock.GetUtcNow();
            db.Models.Add(new RegisteredModel
            {
                Name = name,
                NormalizedName = RegisteredModel.Normalize(name),
                Description = request.Description,
                Tags = ToTags(request.Tags),
                CreatedAt = now,
                CreatedBy = actor.AuditName,
                UpdatedAt = now,
            });
            db.Record(now, actor, "model.created", $"model:{name}", after: new { name, request.Description, request.Tags });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException ex) when (databaseErrors.IsUniqueViolation(ex))
            {
                return new RegistryError(ErrorKind.Conflict, "Model exists",
                    $"A model named '{name}' already exists (names ignore case). Upload a new version to it instead.");
            }
        }
        return await queries.GetModelAsync(name, ct);
    }

    /// <summary>
    /// Registers a staged upload as the next version of <paramref name="modelName"/>, creating the
    /// model when it does not exist, and queues its validation. Reference tensors, when given, are
    /// matched to the graph's inputs and outputs. On any refusal nothing is kept: the caller disposes
    /// the staged files, and no row is written.
    /// </summary>
    public async Task<Result<VersionView>> AddVersionAsync(string modelName, VersionMetadata? metadata, StagedArtifact staged,
        Actor actor, CancellationToken ct = default, IReadOnlyList<StagedReference>? references = null)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        metadata ??= new VersionMetadata();
        references ??= [];
        if (CheckName(modelName) is { } badName) return badName;
        if (CheckMetadata(metadata) is { } badMetadata) return badMetadata;

        ModelSignature signature;
        await using (var content = staged.OpenRead())
        {
            var parsed = OnnxHeaderReader.Read(content);
            if (!parsed.IsSuccess) return parsed.Error!;
            signature = parsed.Value;
        }

        if (ReferenceMatching.CheckSmokeShapes(signature.Inputs, metadata.SmokeTestShapes, validationOptions.Value.MaxInputElements) is { } badShapes)
            return badShapes;
        var matched = await MatchReferencesAsync(signature, references, ct);
        if (!matched.IsSuccess) return matched.Error!;

        Result<IReadOnlyList<(long Id, ParentInput Input)>> parents;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            parents = await ResolveParentsAsync(db, metadata.Lineage?.Parents, "lineage.parents", ct);
        if (!parents.IsSuccess) return parents.Error!;

        var storageKey = await artifacts.CommitAsync(staged, ct);
        var referenceRows = new List<(ReferenceKind Kind, int Position, string Name, StagedArtifact File, string Key)>();
        foreach (var (reference, name, position) in matched.Value)
            referenceRows.Add((reference.Kind, position, name, reference.File, await artifacts.CommitAsync(reference.File, ct)));

        // From here the bytes are stored: finish the registration even if the client goes away, so
        // that an acknowledged-looking upload never leaves a file without its row.
        // Writes are serialised; a concurrent upload that still creates the same model or artifact row
        // first (a unique index) makes the write unit run the insert again, and then it finds the row.
        var inserted = await writes.RunAsync((db, c) => InsertVersionAsync(db, modelName, metadata, staged, storageKey, signature, parents.Value, referenceRows, actor, c),
            $"Registering {modelName} collided with concurrent uploads; nothing was registered. Retry the upload", CancellationToken.None);
        if (!inserted.IsSuccess) return inserted.Error!;
        var number = inserted.Value;
        logger.LogInformation("Registered {Model} v{Version} ({Sha256}, {Size} bytes, {References} reference tensors) for {Actor}",
            modelName, number, staged.Sha256, staged.SizeBytes, referenceRows.Count, actor.AuditName);
        validationSignal.Notify(modelName, number);
        return await queries.GetVersionAsync(modelName, number, CancellationToken.None);
    }

    /// <summary>Reads each reference tensor and pairs it with the graph input or output it belongs to.</summary>
    private static async Task<Result<IReadOnlyList<(StagedReference Reference, string Name, int Position)>>> MatchReferencesAsync(
        ModelSignature signature, IReadOnlyList<StagedReference> references, CancellationToken ct)
    {
        var result = new List<(StagedReference, string, int)>();
        var allMatchedInputs = new List<string>();
        var outputCount = 0;
        foreach (var kind in new[] { ReferenceKind.Input, ReferenceKind.Output })
        {
            var ofKind = references.Where(r => r.Kind == kind).ToList();
            var part = kind == ReferenceKind.Input ? "reference_input" : "reference_output";
            var tensors = new List<ITensorDescription>();
            for (var i = 0; i < ofKind.Count; i++)
            {
                // Described from the wire format, values skipped: checking reference data costs the
                // server almost no memory, however large the parts.
                await using var stream = ofKind[i].File.OpenRead();
                var tensor = TensorDescription.Read(stream, $"{part}[{i}]");
                if (!tensor.IsSuccess) return tensor.Error!;
                tensors.Add(tensor.Value);
            }
            var names = ReferenceMatching.Match(kind == ReferenceKind.Input ? signature.Inputs : signature.Outputs, tensors, part);
            if (!names.IsSuccess) return names.Error!;
            for (var i = 0; i < ofKind.Count; i++) result.Add((ofKind[i], names.Value[i], i));
            if (kind == ReferenceKind.Input) allMatchedInputs.AddRange(names.Value);
            else outputCount = ofKind.Count;
        }
        if (ReferenceMatching.CheckInputsComplete(signature.Inputs, allMatchedInputs, outputCount) is { } incomplete) return incomplete;
        return result;
    }

    private async Task<Result<int>> InsertVersionAsync(RegistryDbContext db, string modelName, VersionMetadata metadata, StagedArtifact staged, string storageKey,
        ModelSignature signature, IReadOnlyList<(long Id, ParentInput Input)> parents,
        IReadOnlyList<(ReferenceKind Kind, int Position, string Name, StagedArtifact File, string Key)> references, Actor actor, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var normalized = RegisteredModel.Normalize(modelName);

        var model = await db.Models.SingleOrDefaultAsync(m => m.NormalizedName == normalized, ct);
        var modelCreated = model is null;
        if (model is null)
        {
            model = new RegisteredModel { Name = modelName, NormalizedName = normalized, CreatedAt = now, CreatedBy = actor.AuditName, UpdatedAt = now };
            db.Models.Add(model);
            await db.SaveChangesAsync(ct);
        }

        // Numbering: an atomic increment inside the transaction, so concurrent uploads get 1, 2, 3… with no gaps.
        await db.Models.Where(m => m.Id == model.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.LatestVersion, m => m.LatestVersion + 1)
            .SetProperty(m => m.UpdatedAt, now), ct);
        var number = await db.Models.Where(m => m.Id == model.Id).Select(m => m.LatestVersion).SingleAsync(ct);

        var stored = new[] { (staged.Sha256, staged.SizeBytes, storageKey) }
            .Concat(references.Select(r => (r.File.Sha256, r.File.SizeBytes, r.Key)))
            .DistinctBy(a => a.Item1).ToList();
        var shas = stored.Select(a => a.Item1).ToList();
        var known = await db.Artifacts.Where(a => shas.Contains(a.Sha256)).Select(a => a.Sha256).ToListAsync(ct);
        foreach (var (sha, size, key) in stored.Where(a => !known.Contains(a.Item1)))
            db.Artifacts.Add(new Artifact { Sha256 = sha, SizeBytes = size, StorageKey = key, CreatedAt = now });

        var lineage = metadata.Lineage;
        var version = new ModelVersion
        {
            ModelId = model.Id,
            Number = number,
            ArtifactSha256 = staged.Sha256,
            Description = metadata.Description,
            Tags = ToTags(metadata.Tags),
            Stage = Stage.None,
            ValidationStatus = ValidationStatus.Pending,
            Signature = signature,
            SourceCommit = lineage?.Source?.Commit,
            SourceRunUrl = lineage?.Source?.RunUrl,
            Params = lineage?.Params ?? [],
            Parents = parents.Select(p => new VersionParent { ParentVersionId = p.Id, Relation = p.Input.Relation! }).ToList(),
            Datasets = (lineage?.Datasets ?? []).Select(d => new DatasetRef { Name = d.Name!, Uri = d.Uri, Digest = d.Digest }).ToList(),
            Metrics = ToMetrics(metadata.Metrics, now, actor.AuditName),
            References = references.Select(r => new VersionReference { Kind = r.Kind, Position = r.Position, Name = r.Name, ArtifactSha256 = r.File.Sha256 }).ToList(),
            SmokeTestShapes = metadata.SmokeTestShapes,
            CreatedAt = now,
            CreatedBy = actor.AuditName,
        };
        db.Versions.Add(version);
        ValidationQueue.Enqueue(db, version, actor.AuditName, now);
        await db.SaveChangesAsync(ct);
        await db.Models.Where(m => m.Id == model.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.LatestVersionId, version.Id), ct);
        // One request, one event: a model created by its first upload is part of that event.
        db.Record(now, actor, "version.created", $"version:{model.Name}/{number}",
            after: new { version = number, sha256 = staged.Sha256, sizeBytes = staged.SizeBytes, stage = Stage.None.ToString(), modelCreated });
        return number;
    }

    public async Task<Result<IReadOnlyList<MetricView>>> LogMetricsAsync(string modelName, int versionNumber, MetricsBatch batch,
        Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Write, ct) is { } denied) return denied;
        var validation = await metricsValidator.ValidateAsync(batch, ct);
        if (!validation.IsValid) return InputErrors.ToError(validation, "Invalid metrics");

        var normalized = RegisteredModel.Normalize(modelName);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var version = await db.Versions
                .Where(v => v.Model.NormalizedName == normalized && v.Number == versionNumber)
                .Select(v => new { v.Id, v.ModelId, ModelName = v.Model.Name })
                .SingleOrDefaultAsync(ct);
            if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);

            var now = clock.GetUtcNow();
            var metrics = ToMetrics(batch.Metrics, now, actor.AuditName);
            foreach (var m in metrics) db.Metrics.Add(new Metric { VersionId = version.Id, Key = m.Key, Value = m.Value, Dataset = m.Dataset, LoggedAt = now, LoggedBy = actor.AuditName });
            db.Record(now, actor, "metrics.logged", $"version:{version.ModelName}/{versionNumber}",
                after: metrics.Select(m => new { m.Key, m.Value, m.Dataset }));
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.SaveChangesAsync(ct);
            await db.Models.Where(m => m.Id == version.ModelId).ExecuteUpdateAsync(s => s.SetProperty(m => m.UpdatedAt, now), ct);
            await tx.CommitAsync(ct);
        }
        promotionSignal.Nudge(); // a metric gate of an open request may pass now
        return await queries.GetMetricsAsync(modelName, versionNumber, ct);
    }

    /// <summary>Finds the parent versions named in lineage (at upload or added later); a missing one is refused by name, as 422.</summary>
    internal static async Task<Result<IReadOnlyList<(long Id, ParentInput Input)>>> ResolveParentsAsync(RegistryDbContext db, List<ParentInput>? parents,
        string path, CancellationToken ct)
    {
        if (parents is not { Count: > 0 }) return Result<IReadOnlyList<(long, ParentInput)>>.Ok([]);
        var resolved = new List<(long, ParentInput)>();
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < parents.Count; i++)
        {
            var p = parents[i];
            var normalized = RegisteredModel.Normalize(p.Model!);
            var id = await db.Versions.AsNoTracking()
                .Where(v => v.Model.NormalizedName == normalized && v.Number == p.Version)
                .Select(v => (long?)v.Id).SingleOrDefaultAsync(ct);
            if (id is { } found) resolved.Add((found, p));
            else errors[$"{path}[{i}]"] = [(await CatalogQueries.VersionNotFoundAsync(db, p.Model!, p.Version!.Value, ct)).Detail];
        }
        if (errors.Count > 0)
        {
            var first = errors.First();
            return RegistryError.Invalid("Unknown parent version",
                $"Lineage names a parent version that does not exist: {first.Value[0]}", errors);
        }
        return resolved;
    }

    private static List<Tag> ToTags(Dictionary<string, string>? tags) =>
        (tags ?? []).Select(t => new Tag { Key = t.Key, Value = t.Value }).ToList();

    private static List<Metric> ToMetrics(List<MetricInput>? metrics, DateTimeOffset now, string actor) =>
        (metrics ?? []).Select(m => new Metric { Key = m.Key!, Value = m.Value!.Value, Dataset = m.Dataset, LoggedAt = now, LoggedBy = actor }).ToList();
}
