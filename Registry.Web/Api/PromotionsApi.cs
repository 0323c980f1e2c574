using Microsoft.AspNetCore.Http.HttpResults;
using Registry.Core;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Core.Promotions;
using Registry.Web.Security;

namespace Registry.Web.Api;

/// <summary>
/// Promotion requests: opened on a version (<c>…/versions/{version}/promotions</c>), then decided
/// under <c>/api/v1/promotions/{id}</c>.
/// </summary>
public static class PromotionsApi
{
    public static IEndpointRouteBuilder MapPromotionsApi(this IEndpointRouteBuilder app)
    {
        var onVersion = app.MapGroup("/api/v1/models/{name}/versions/{version:int}/promotions").WithTags("Promotions");
        onVersion.MapPost("/", RequestPromotion).RequirePermission(Permission.RequestPromotion)
            .WithName("RequestPromotion")
            .WithSummary("Request a move to Staging, Production or Archived; applied as soon as its gates pass and its approvals suffice")
            .Accepts<PromotionRequestInput>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        onVersion.MapGet("/preview", Preview).RequirePermission(Permission.Read)
            .WithName("PreviewPromotion")
            .WithSummary("The gates and approvals a request to ?targetStage= would face now, without opening it")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

        var promotions = app.MapGroup("/api/v1/promotions").WithTags("Promotions");
        promotions.MapGet("/", List).RequirePermission(Permission.Read)
            .WithName("ListPromotions").WithSummary("Promotion requests, newest first; filter by status (Open, Applied, Rejected, Cancelled) and model")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        promotions.MapGet("/{id:long}", Get).RequirePermission(Permission.Read)
            .WithName("GetPromotion").WithSummary("A request with its gates as last evaluated and its votes")
            .ProducesProblem(StatusCodes.Status404NotFound);
        promotions.MapGet("/{id:long}/evidence", Evidence).RequirePermission(Permission.Read)
            .WithName("GetPromotionEvidence")
            .WithSummary("The request beside current production: validation, metric deltas, signature diff, gates as they stand now")
            .ProducesProblem(StatusCodes.Status404NotFound);
        promotions.MapPost("/{id:long}/approve", Approve).RequirePermission(Permission.Approve)
            .WithName("ApprovePromotion").WithSummary("Approve (never your own request); applies it when the gates pass and the approvals suffice")
            .Accepts<DecisionInput>("application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        promotions.MapPost("/{id:long}/reject", Reject).RequirePermission(Permission.Approve)
            .WithName("RejectPromotion").WithSummary("Reject with a comment; closes the request")
            .Accepts<DecisionInput>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        promotions.MapPost("/{id:long}/cancel", Cancel).RequirePermission(Permission.RequestPromotion)
            .WithName("CancelPromotion").WithSummary("Withdraw a request (its requester, or an admin)")
            .Accepts<DecisionInput>("application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Created<PromotionView>, ProblemHttpResult>> RequestPromotion(
        string name, int version, HttpContext http, PromotionService promotions, CancellationToken ct)
    {
        var input = await RequestJson.ReadAsync<PromotionRequestInput>(http.Request, "promotion request", ct);
        if (!input.IsSuccess) return input.Error!.ToProblem();
        var opened = await promotions.RequestAsync(name, version, input.Value, http.ActorOf(), ct);
        return opened.IsSuccess ? TypedResults.Created(ApiLinks.Promotion(opened.Value.Id), opened.Value) : opened.Error!.ToProblem();
    }

    private static async Task<Results<Ok<GatePreview>, ProblemHttpResult>> Preview(
        string name, int version, string? targetStage, PromotionQueries queries, CancellationToken ct) =>
        Answer(await queries.PreviewAsync(name, version, targetStage, ct));

    private static async Task<Results<Ok<PagedList<PromotionView>>, ProblemHttpResult>> List(
        string? status, string? model, int? page, int? pageSize, PromotionQueries queries, CancellationToken ct)
    {
        var paging = PageRequest.Create(page, pageSize);
        if (!paging.IsSuccess) return paging.Error!.ToProblem();
        return Answer(await queries.ListAsync(status, model, paging.Value, ct));
    }

    private static async Task<Results<Ok<PromotionView>, ProblemHttpResult>> Get(long id, PromotionQueries queries, CancellationToken ct) =>
        Answer(await queries.GetAsync(id, ct));

    private static async Task<Results<Ok<PromotionEvidence>, ProblemHttpResult>> Evidence(long id, PromotionQueries queries, CancellationToken ct) =>
        Answer(await queries.EvidenceAsync(id, ct));

    private static Task<Results<Ok<PromotionView>, ProblemHttpResult>> Approve(long id, HttpContext http, PromotionService promotions, CancellationToken ct) =>
        DecideAsync(http, ct, input => promotions.ApproveAsync(id, input, http.ActorOf(), ct));

    private static Task<Results<Ok<PromotionView>, ProblemHttpResult>> Reject(long id, HttpContext http, PromotionService promotions, CancellationToken ct) =>
        DecideAsync(http, ct, input => promotions.RejectAsync(id, input, http.ActorOf(), ct));

    private static Task<Results<Ok<PromotionView>, ProblemHttpResult>> Cancel(long id, HttpContext http, PromotionService promotions, CancellationToken ct) =>
        DecideAsync(http, ct, input => promotions.CancelAsync(id, input, http.ActorOf(), ct));

    private static async Task<Results<Ok<PromotionView>, ProblemHttpResult>> DecideAsync(
        HttpContext http, CancellationToken ct, Func<DecisionInput, Task<Result<PromotionView>>> decide)
    {
        var input = await RequestJson.ReadOptionalAsync<DecisionInput>(http.Request, "decision", ct);
        if (!input.IsSuccess) return input.Error!.ToProblem();
        return Answer(await decide(input.Value));
    }

    internal static Results<Ok<T>, ProblemHttpResult> Answer<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToProblem();
}
