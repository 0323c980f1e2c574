using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Registry.Core.Auditing;
using Registry.Core.Onnx;
using Registry.Core.Persistence;
using Registry.Core.Storage;

namespace Registry.Core.Catalog;

/// <summary>
/// Changes to the catalogue: create models, add versions, log metrics. Slow work (hashing, file
/// I/O, parsing) happens before a write transaction starts; transactions stay short.
/// </summary>
public sealed class CatalogCommands(
    IDbContextFactory<RegistryDbContext> dbFactory,
    IArtifactStore artifacts,
    IDatabaseErrors databaseErrors,
    TimeProvider clock,
    CatalogQueries queries,
    IValidator<VersionMetadata> metadataValidator,
    IValidator<MetricsBatch> metricsValidator,
    IValidator<CreateModelRequest> createModelValidator,
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

    public async Task<Result<ModelSummary>> CreateModelAsync(CreateModelRequest request, string actor, CancellationToken ct = default)
    {
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
                CreatedBy = actor,
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
    /// model when it does not exist. On any refusal nothing is kept: the caller disposes the staged
    /// file, and no row is written.
    /// </summary>
    public async Task<Result<VersionView>> AddVersionAsync(string modelName, VersionMetadata? metadata, StagedArtifact staged,
        string actor, CancellationToken ct = default)
    {
        metadata ??= new VersionMetadata();
        if (CheckName(modelName) is { } badName) return badName;
        if (CheckMetadata(metadata) is { } badMetadata) return badMetadata;

        ModelSignature signature;
        await using (var content = staged.OpenRead())
        {
            var parsed = OnnxHeaderReader.Read(content);
            if (!parsed.IsSuccess) return parsed.Error!;
            signature = parsed.Value;
        }

        var parents = await ResolveParentsAsync(metadata.Lineage?.Parents, ct);
        if (!parents.IsSuccess) return parents.Error!;

        var storageKey = await artifacts.CommitAsync(staged, ct);

        // From here the bytes are stored: finish the registration even if the client goes away, so
        // that an acknowledged-looking upload never leaves a file without its row.
        var number = await InsertVersionWithRetryAsync(modelName, metadata, staged, storageKey, signature, parents.Value, actor);
        logger.LogInformation("Registered {Model} v{Version} ({Sha256}, {Size} bytes) for {Actor}",
            modelName, number, staged.Sha256, staged.SizeBytes, actor);
        return await queries.GetVersionAsync(modelName, number, CancellationToken.None);
    }

    private async Task<int> InsertVersionWithRetryAsync(string modelName, VersionMetadata metadata, StagedArtifact staged, string storageKey,
        ModelSignature signature, IReadOnlyList<(long Id, ParentInput Input)> parents, string actor)
    {
        // Writes are serialised (SQLite takes the write lock at BEGIN IMMEDIATE); on a server database a
        // concurrent upload may create the same model or artifact row first, and a retry then finds it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await InsertVersionAsync(modelName, metadata, staged, storageKey, signature, parents, actor, CancellationToken.None);
            }
            catch (DbUpdateException ex) when (attempt < 3 && databaseErrors.IsUniqueViolation(ex))
            {
                logger.LogDebug(ex, "Concurrent insert for {Model}; retrying", modelName);
            }
        }
    }

    private async Task<int> InsertVersionAsync(string modelName, VersionMetadata metadata, StagedArtifact staged, string storageKey,
        ModelSignature signature, IReadOnlyList<(long Id, ParentInput Input)> parents, string actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var normalized = RegisteredModel.Normalize(modelName);

        var model = await db.Models.SingleOrDefaultAsync(m => m.NormalizedName == normalized, ct);
        if (model is null)
        {
            model = new RegisteredModel { Name = modelName, NormalizedName = normalized, CreatedAt = now, CreatedBy = actor, UpdatedAt = now };
            db.Models.Add(model);
            db.Record(now, actor, "model.created", $"model:{modelName}", after: new { name = modelName });
            await db.SaveChangesAsync(ct);
        }

        // Numbering: an atomic increment inside the transaction, so concurrent uploads get 1, 2, 3… with no gaps.
        await db.Models.Where(m => m.Id == model.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.LatestVersion, m => m.LatestVersion + 1)
            .SetProperty(m => m.UpdatedAt, now), ct);
        var number = await db.Models.Where(m => m.Id == model.Id).Select(m => m.LatestVersion).SingleAsync(ct);

        if (!await db.Artifacts.AnyAsync(a => a.Sha256 == staged.Sha256, ct))
            db.Artifacts.Add(new Artifact { Sha256 = staged.Sha256, SizeBytes = staged.SizeBytes, StorageKey = storageKey, CreatedAt = now });

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
            Metrics = ToMetrics(metadata.Metrics, now, actor),
            CreatedAt = now,
            CreatedBy = actor,
        };
        db.Versions.Add(version);
        db.Record(now, actor, "version.created", $"version:{model.Name}/{number}",
            after: new { version = number, sha256 = staged.Sha256, sizeBytes = staged.SizeBytes, stage = Stage.None.ToString() });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return number;
    }

    public async Task<Result<IReadOnlyList<MetricView>>> LogMetricsAsync(string modelName, int versionNumber, MetricsBatch batch,
        string actor, CancellationToken ct = default)
    {
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
            var metrics = ToMetrics(batch.Metrics, now, actor);
            foreach (var m in metrics) db.Metrics.Add(new Metric { VersionId = version.Id, Key = m.Key, Value = m.Value, Dataset = m.Dataset, LoggedAt = now, LoggedBy = actor });
            db.Record(now, actor, "metrics.logged", $"version:{version.ModelName}/{versionNumber}",
                after: metrics.Select(m => new { m.Key, m.Value, m.Dataset }));
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.SaveChangesAsync(ct);
            await db.Models.Where(m => m.Id == version.ModelId).ExecuteUpdateAsync(s => s.SetProperty(m => m.UpdatedAt, now), ct);
            await tx.CommitAsync(ct);
        }
        return await queries.GetMetricsAsync(modelName, versionNumber, ct);
    }

    /// <summary>Finds the parent versions named in lineage; a missing one is refused by name.</summary>
    private async Task<Result<IReadOnlyList<(long Id, ParentInput Input)>>> ResolveParentsAsync(List<ParentInput>? parents, CancellationToken ct)
    {
        if (parents is not { Count: > 0 }) return Result<IReadOnlyList<(long, ParentInput)>>.Ok([]);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
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
            else errors[$"lineage.parents[{i}]"] = [(await CatalogQueries.VersionNotFoundAsync(db, p.Model!, p.Version!.Value, ct)).Detail];
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
