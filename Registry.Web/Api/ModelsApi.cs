using Microsoft.AspNetCore.Http.HttpResults;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Web.Security;

namespace Registry.Web.Api;

/// <summary><c>/api/v1/models</c>: list, create and read registered models.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/v1/models").WithTags("Models");

        models.MapGet("/", ListModels)
            .RequirePermission(Permission.Read)
            .WithName("ListModels")
            .WithSummary("List models")
            .WithDescription("Models whose name or description contains q (ignoring case), that carry tag (key or key=value), that have a version in stage=, " +
                "whose latest (on=latest) or production (on=production) version has metric= (on dataset=) within min= and max=; " +
                "sorted by sort=name|updated|metric, order=asc|desc; paged.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        models.MapPost("/", CreateModel)
            .RequirePermission(Permission.Write)
            .WithName("CreateModel")
            .WithSummary("Register a model without uploading a version")
            .Accepts<CreateModelRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        models.MapGet("/{name}", GetModel)
            .RequirePermission(Permission.Read)
            .WithName("GetModel")
            .WithSummary("Get a model")
            .ProducesProblem(StatusCodes.Status404NotFound);

        models.MapPatch("/{name}", UpdateModel)
            .RequirePermission(Permission.Write)
            .WithName("UpdateModel")
            .WithSummary("Edit a model's description, tags and card")
            .WithDescription(UpdateDescription)
            .Accepts<UpdateMetadataRequest>("application/json", "application/merge-patch+json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        return app;
    }

    private static async Task<Results<Ok<PagedList<ModelSummary>>, ProblemHttpResult>> ListModels(
        CatalogQueries queries, string? q, string? tag, string? stage, string? metric, string? dataset, string? min, string? max,
        string? on, string? sort, string? order, int? page, int? pageSize, CancellationToken ct)
    {
        var paging = PageRequest.Create(page, pageSize);
        if (!paging.IsSuccess) return paging.Error!.ToProblem();
        var search = ModelSearch.Parse(q, tag, stage, metric, dataset, min, max, on, sort, order);
        if (!search.IsSuccess) return search.Error!.ToProblem();
        return TypedResults.Ok(await queries.ListModelsAsync(search.Value, paging.Value, ct));
    }

    private static async Task<Results<Created<ModelView>, ProblemHttpResult>> CreateModel(
        HttpContext http, CatalogCommands commands, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<CreateModelRequest>(http.Request, "model", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var created = await commands.CreateModelAsync(request.Value, http.ActorOf(), ct);
        if (!created.IsSuccess) return created.Error!.ToProblem();
        return TypedResults.Created(ApiLinks.Model(created.Value.Name), created.Value);
    }

    /// <summary>How both PATCH endpoints read their body; shared with <see cref="VersionsApi"/>.</summary>
    internal const string UpdateDescription =
        "JSON {description?, tags?, card?}: a field left out is kept, null clears it, a value replaces it " +
        "(tags replace the whole set of key=value tags; card is Markdown of at most 100,000 characters). " +
        "Content-Type application/json or application/merge-patch+json.";

    private static async Task<Results<Ok<ModelView>, ProblemHttpResult>> UpdateModel(
        string name, HttpContext http, MetadataCommands commands, CancellationToken ct)
    {
        var request = await RequestJson.ReadAsync<UpdateMetadataRequest>(http.Request, "model update", ct);
        if (!request.IsSuccess) return request.Error!.ToProblem();
        var updated = await commands.UpdateModelAsync(name, request.Value, http.ActorOf(), ct);
        return updated.IsSuccess ? TypedResults.Ok(updated.Value) : updated.Error!.ToProblem();
    }

    private static async Task<Results<Ok<ModelView>, ProblemHttpResult>> GetModel(string name, CatalogQueries queries, CancellationToken ct)
    {
        var model = await queries.GetModelAsync(name, ct);
        return model.IsSuccess ? TypedResults.Ok(model.Value) : model.Error!.ToProblem();
    }
}
