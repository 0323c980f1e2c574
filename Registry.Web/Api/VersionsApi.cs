using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Registry.Core;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Web.Security;
using Registry.Core.Storage;
using Registry.Core.Validation;

namespace Registry.Web.Api;

/// <summary><c>/api/v1/models/{name}/versions</c>: upload, list and read versions, download their bytes, log metrics.</summary>
public static class VersionsApi
{
    public static IEndpointRouteBuilder MapVersionsApi(this IEndpointRouteBuilder app)
    {
        var versions = app.MapGroup("/api/v1/models/{name}/versions").WithTags("Versions");

        versions.MapPost("/", Upload)
            .RequirePermission(Permission.Write)
            .WithName("UploadVersion")
            .WithSummary("Upload a new version")
            .WithDescription("multipart/form-data with a 'file' part (the .onnx model) and an optional 'metadata' part (JSON: description, tags, metrics, lineage). The model is created when it does not exist.")
            .AddOpenApiOperationTransformer(OpenApiDocs.DescribeUploadForm)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        versions.MapGet("/", ListVersions)
            .RequirePermission(Permission.Read)
            .WithName("ListVersions")
            .WithSummary("List a model's versions, newest first")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapGet("/{version:int}", GetVersion)
            .RequirePermission(Permission.Read)
            .WithName("GetVersion")
            .WithSummary("Get a version with its signature, metrics and lineage")
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapPatch("/{version:int}", UpdateVersion)
            .RequirePermission(Permission.Write)
            .WithName("UpdateVersion")
            .WithSummary("Edit a version's description, tags and card (the rest of a version never changes)")
            .WithDescription(ModelsApi.UpdateDescription)
            .Accepts<UpdateMetadataRequest>("application/json", "application/merge-patch+json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        versions.MapGet("/{version:int}/artifact", Download)
            .RequirePermission(Permission.Read)
            .WithName("DownloadArtifact")
            .WithSummary("Download a version's .onnx file")
            .WithDescription("ETag is \"sha256:<hex>\"; If-None-Match gives 304; Range gives 206.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapGet("/{version:int}/validation", GetValidation)
            .RequirePermission(Permission.Read)
            .WithName("GetValidation")
            .WithSummary("The latest validation of a version: status, checks, latency figures")
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapPost("/{version:int}/validation", Revalidate)
            .RequirePermission(Permission.Validate)
            .WithName("Revalidate")
            .WithSummary("Queue a new validation of a version (after an ONNX Runtime upgrade, say)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        versions.MapGet("/{version:int}/metrics", GetMetrics)
            .RequirePermission(Permission.Read)
            .WithName("GetMetrics")
            .WithSummary("List a version's metrics")
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapPost("/{version:int}/metrics", LogMetrics)
            .RequirePermission(Permission.Write)
            .WithName("LogMetrics")
            .WithSummary("Log a batch of metrics on a version")
            .Accepts<MetricsBatch>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        versions.MapGet("/{version:int}/lineage", GetLineage)
            .RequirePermission(Permission.Read)
            .WithName("GetLineage")
            .WithSummary("The lineage graph around a version: versions, datasets and sources, upstream and downstream, across models")
            .WithDescription("depth 1 to 10 (default 3); direction both (default), upstream (parents) or downstream (versions whose parents include it). At most 500 nodes; 'truncated' says when more exist.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        versions.MapPost("/{version:int}/lineage", AddLineage)
            .RequirePermission(Permission.Write)
            .WithName("AddLineage")
            .WithSummary("Add parents and datasets to a version's lineage after upload")
            .WithDescription("Lineage only grows: a parent or dataset already recorded is refused (409), as is a parent that would make a cycle (409); an unknown parent is 422, as at upload.")
            .Accepts<AddLineageRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        return app;
    }

    private static async Task<Results<Ok<LineageGraph>, ProblemHttpResult>> GetLineage(
        string name, int version, string? depth, string? direction, LineageService lineage, CancellationToken ct)
    {
        int? d = null;
        if (depth is not null)
        {
            if (!int.TryParse(depth, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                return RegistryError.BadRequest("Invalid depth", $"depth must be a whole number between 1 and {LineageService.MaxDepth}; got '{depth}'.").ToProblem();
            d = parsed;
        }
        var graph = await lineage.GetGraphAsync(name, version, d, direction, ct);
        return graph.IsSuccess ? TypedResults.Ok(graph.Value) : graph.Error!.ToProblem();
    }

    private static async Task<Results<Created<LineageView>, ProblemHttpResult>> AddLineage(
        string name, int version, HttpContext http, LineageService lineage, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<AddLineageRequest>(http.Request, "lineage", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var added = await lineage.AddAsync(name, version, request.Value, http.ActorOf(), ct);
        if (!added.IsSuccess) return added.Error!.ToProblem();
        return TypedResults.Created(ApiLinks.Lineage(name, version), added.Value);
    }

    private static async Task<Results<Created<VersionView>, ProblemHttpResult>> Upload(
        string name, HttpContext http, CatalogCommands commands, IArtifactStore store, IOptions<UploadOptions> limits,
        ILoggerFactory loggers, CancellationToken ct)
    {
        // A bad name is refused before a byte of the body is read.
        if (commands.CheckName(name) is { } badName) return badName.ToProblem();

        try
        {
            var form = await MultipartUpload.ReadAsync(http.Request, store, commands, limits.Value, ct);
            if (!form.IsSuccess) return form.Error!.ToProblem();

            await using var upload = form.Value;
            var added = await commands.AddVersionAsync(name, upload.Metadata, upload.File, http.ActorOf(), ct, upload.References);
            if (!added.IsSuccess) return added.Error!.ToProblem();
            var v = added.Value;
            return TypedResults.Created(ApiLinks.Version(v.Model, v.Version), v);
        }
        catch (ArtifactStoreException ex)
        {
            loggers.CreateLogger(typeof(VersionsApi)).LogError(ex, "Upload to {Model} failed in the artifact store", name);
            return Problems.ServerError("Storage failure",
                $"Storing the upload failed: {ex.Message}. Nothing was registered. An operator should check the artifact store (free space and permissions of the data folder, or the object store's reachability); then retry.");
        }
    }

    private static async Task<Results<Ok<PagedList<VersionSummary>>, ProblemHttpResult>> ListVersions(
        string name, int? page, int? pageSize, CatalogQueries queries, CancellationToken ct)
    {
        var paging = PageRequest.Create(page, pageSize);
        if (!paging.IsSuccess) return paging.Error!.ToProblem();
        var list = await queries.ListVersionsAsync(name, paging.Value, ct);
        return list.IsSuccess ? TypedResults.Ok(list.Value) : list.Error!.ToProblem();
    }

    private static async Task<Results<Ok<VersionView>, ProblemHttpResult>> GetVersion(
        string name, int version, CatalogQueries queries, CancellationToken ct)
    {
        var view = await queries.GetVersionAsync(name, version, ct);
        return view.IsSuccess ? TypedResults.Ok(view.Value) : view.Error!.ToProblem();
    }

    private static async Task<Results<Ok<VersionView>, ProblemHttpResult>> UpdateVersion(
        string name, int version, HttpContext http, MetadataCommands commands, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<UpdateMetadataRequest>(http.Request, "version update", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var updated = await commands.UpdateVersionAsync(name, version, request.Value, http.ActorOf(), ct);
        return updated.IsSuccess ? TypedResults.Ok(updated.Value) : updated.Error!.ToProblem();
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(
        string name, int version, CatalogQueries queries, IArtifactStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        var location = await queries.GetArtifactAsync(name, version, ct);
        if (!location.IsSuccess) return location.Error!.ToProblem();
        var a = location.Value;

        var logger = loggers.CreateLogger(typeof(VersionsApi));
        var stored = await store.GetSizeAsync(a.StorageKey, ct);
        if (stored is null)
        {
            logger.LogError("Artifact {Key} of {Model} v{Version} is missing from storage", a.StorageKey, a.Model, a.Version);
            return Problems.ServerError("Artifact missing",
                $"The bytes of {a.Model} v{a.Version} (sha256 {a.Sha256}) are missing from the artifact store. An operator should restore them from backup.");
        }
        if (stored != a.SizeBytes)
        {
            logger.LogError("Artifact {Key} has {Actual} bytes, expected {Expected}", a.StorageKey, stored, a.SizeBytes);
            return Problems.ServerError("Artifact corrupt",
                $"The stored bytes of {a.Model} v{a.Version} do not match their recorded size. An operator should restore them from backup.");
        }
        var stream = new ArtifactReadStream(store, a.StorageKey, a.SizeBytes);

        // A whole-file download is re-hashed as it is sent; a mismatch aborts the response so that a
        // client never receives corrupted bytes that look complete. A served range seeks away from the
        // start, which switches the check off: a part cannot be verified on its own.
        var verified = new DigestVerifyingStream(stream, a.Sha256, () => logger.LogError(
            "Artifact {Key} of {Model} v{Version} does not match its SHA-256; download aborted", a.StorageKey, a.Model, a.Version));
        return TypedResults.Stream(verified, "application/octet-stream", $"{a.Model}-v{a.Version}.onnx",
            lastModified: a.CreatedAt, entityTag: new EntityTagHeaderValue($"\"sha256:{a.Sha256}\""), enableRangeProcessing: true);
    }

    private static async Task<Results<Ok<ValidationView>, ProblemHttpResult>> GetValidation(
        string name, int version, ValidationQueue validation, CancellationToken ct)
    {
        var view = await validation.GetLatestAsync(name, version, ct);
        return view.IsSuccess ? TypedResults.Ok(view.Value) : view.Error!.ToProblem();
    }

    private static async Task<Results<Accepted<ValidationView>, ProblemHttpResult>> Revalidate(
        string name, int version, HttpContext http, ValidationQueue validation, CancellationToken ct)
    {
        var queued = await validation.RequeueAsync(name, version, http.ActorOf(), ct);
        if (!queued.IsSuccess) return queued.Error!.ToProblem();
        return TypedResults.Accepted(ApiLinks.Validation(queued.Value.Model, version), queued.Value);
    }

    private static async Task<Results<Ok<IReadOnlyList<MetricView>>, ProblemHttpResult>> GetMetrics(
        string name, int version, CatalogQueries queries, CancellationToken ct)
    {
        var metrics = await queries.GetMetricsAsync(name, version, ct);
        return metrics.IsSuccess ? TypedResults.Ok(metrics.Value) : metrics.Error!.ToProblem();
    }

    private static async Task<Results<Created<IReadOnlyList<MetricView>>, ProblemHttpResult>> LogMetrics(
        string name, int version, HttpContext http, CatalogCommands commands, CancellationToken ct)
    {
        var batch = await RequestJson.ReadAsync<MetricsBatch>(http.Request, "metrics batch", ct);
        if (!batch.IsSuccess) return batch.Error!.ToProblem();
        var logged = await commands.LogMetricsAsync(name, version, batch.Value, http.ActorOf(), ct);
        if (!logged.IsSuccess) return logged.Error!.ToProblem();
        return TypedResults.Created(ApiLinks.Metrics(name, version), logged.Value);
    }
}
