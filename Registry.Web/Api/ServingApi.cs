using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Registry.Core;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Core.Promotions;
using Registry.Web.Security;

namespace Registry.Web.Api;

/// <summary>
/// What services resolve and approvers govern on a model: the production version (now or
/// <c>?at=</c>), aliases, the stage and alias timeline, the promotion policy, signature diffs.
/// </summary>
public static partial class ServingApi
{
    public static IEndpointRouteBuilder MapServingApi(this IEndpointRouteBuilder app)
    {
        var model = app.MapGroup("/api/v1/models/{name}").WithTags("Stages and aliases");

        model.MapGet("/stages/production", Production).RequirePermission(Permission.Read)
            .WithName("GetProductionVersion")
            .WithSummary("The version in production, or at ?at=<ISO-8601> in the past; ETag + If-None-Match for pollers")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        model.MapGet("/aliases", Aliases).RequirePermission(Permission.Read)
            .WithName("ListAliases").WithSummary("A model's aliases and the versions they point to")
            .ProducesProblem(StatusCodes.Status404NotFound);
        model.MapGet("/aliases/{alias}", Alias).RequirePermission(Permission.Read)
            .WithName("GetAlias").WithSummary("The version an alias points to, or pointed to at ?at=; ETag + If-None-Match")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        model.MapPut("/aliases/{alias}", SetAlias).RequirePermission(Permission.ManageAliases)
            .WithName("SetAlias").WithSummary("Point an alias at a version (Approver)")
            .Accepts<AliasInput>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        model.MapDelete("/aliases/{alias}", RemoveAlias).RequirePermission(Permission.ManageAliases)
            .WithName("RemoveAlias").WithSummary("Remove an alias (Approver)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        model.MapGet("/history", History).RequirePermission(Permission.Read)
            .WithName("GetModelHistory").WithSummary("Stage moves and alias changes, newest first: who, when, why")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        model.MapGet("/policy", GetPolicy).RequirePermission(Permission.Read)
            .WithName("GetPromotionPolicy").WithSummary("The model's promotion policy (its own, or the default)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        model.MapPut("/policy", SetPolicy).RequirePermission(Permission.ManagePolicy)
            .WithName("SetPromotionPolicy").WithSummary("Replace the model's promotion policy (Approver)")
            .Accepts<PromotionPolicy>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        model.MapGet("/versions/{version:int}/signature-diff", SignatureDiff).RequirePermission(Permission.Read)
            .WithName("GetSignatureDiff")
            .WithSummary("How a version's inputs and outputs differ from ?against=<version> (default: production), each difference with its verdict")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Ok<ServedVersion>, StatusCodeHttpResult, ProblemHttpResult>> Production(
        string name, string? at, HttpContext http, ServingQueries serving, CancellationToken ct)
    {
        var when = ParseInstant(at);
        if (!when.IsSuccess) return when.Error!.ToProblem();
        return Conditional(http, await serving.ProductionAsync(name, when.Value, ct));
    }

    private static async Task<Results<Ok<ServedVersion>, StatusCodeHttpResult, ProblemHttpResult>> Alias(
        string name, string alias, string? at, HttpContext http, ServingQueries serving, CancellationToken ct)
    {
        var when = ParseInstant(at);
        if (!when.IsSuccess) return when.Error!.ToProblem();
        return Conditional(http, await serving.AliasAsync(name, alias, when.Value, ct));
    }

    private static async Task<Results<Ok<IReadOnlyList<AliasView>>, ProblemHttpResult>> Aliases(string name, ServingQueries serving, CancellationToken ct) =>
        PromotionsApi.Answer(await serving.AliasesAsync(name, ct));

    private static async Task<Results<Ok<AliasView>, ProblemHttpResult>> SetAlias(
        string name, string alias, HttpContext http, AliasService aliases, CancellationToken ct)
    {
        var input = await RequestJson.ReadAsync<AliasInput>(http.Request, "alias", ct);
        if (!input.IsSuccess) return input.Error!.ToProblem();
        return PromotionsApi.Answer(await aliases.SetAsync(name, alias, input.Value, http.ActorOf(), ct));
    }

    private static async Task<Results<Ok<AliasView>, ProblemHttpResult>> RemoveAlias(
        string name, string alias, HttpContext http, AliasService aliases, CancellationToken ct) =>
        PromotionsApi.Answer(await aliases.RemoveAsync(name, alias, http.ActorOf(), ct));

    private static async Task<Results<Ok<PagedList<HistoryView>>, ProblemHttpResult>> History(
        string name, int? page, int? pageSize, ServingQueries serving, CancellationToken ct)
    {
        var paging = PageRequest.Create(page, pageSize);
        if (!paging.IsSuccess) return paging.Error!.ToProblem();
        return PromotionsApi.Answer(await serving.HistoryAsync(name, paging.Value, ct));
    }

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> GetPolicy(string name, PolicyService policies, CancellationToken ct) =>
        PromotionsApi.Answer(await policies.GetAsync(name, ct));

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> SetPolicy(
        string name, HttpContext http, PolicyService policies, CancellationToken ct)
    {
        var input = await RequestJson.ReadAsync<PromotionPolicy>(http.Request, "promotion policy", ct);
        if (!input.IsSuccess) return input.Error!.ToProblem();
        return PromotionsApi.Answer(await policies.SetAsync(name, input.Value, http.ActorOf(), ct));
    }

    private static async Task<Results<Ok<SignatureDiffView>, ProblemHttpResult>> SignatureDiff(
        string name, int version, int? against, ServingQueries serving, CancellationToken ct) =>
        PromotionsApi.Answer(await serving.SignatureDiffAsync(name, version, against, ct));

    /// <summary>200 with an ETag, or 304 when the client already holds that answer.</summary>
    private static Results<Ok<ServedVersion>, StatusCodeHttpResult, ProblemHttpResult> Conditional(HttpContext http, Result<ResolvedVersion> result)
    {
        if (!result.IsSuccess) return result.Error!.ToProblem();
        var etag = result.Value.ETag;
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = "no-cache";
        var sent = http.Request.Headers.IfNoneMatch.SelectMany(v => (v ?? "").Split(',')).Select(v => v.Trim());
        return sent.Any(v => v == etag || v == "*" || v == "W/" + etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(new ServedVersion(result.Value));
    }

    private static Result<DateTimeOffset?> ParseInstant(string? at)
    {
        if (string.IsNullOrWhiteSpace(at)) return Result<DateTimeOffset?>.Ok(null);
        var text = at.Trim();
        // An unencoded '+' of an offset (…T09:30:00+01:00) arrives as a space; only after a full 'T' time is that what it was.
        text = Regex.Replace(text, @"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:\d\d)$", "$1+$2");
        // ISO-8601 only: a date, or a date and time with an optional offset (none means UTC). "2026-11-28 09:30" is not read as anything.
        if (IsoInstant().IsMatch(text) &&
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            return Result<DateTimeOffset?>.Ok(when.ToUniversalTime());
        return RegistryError.BadRequest("Invalid instant",
            $"at='{(at.Length <= 40 ? at : at[..37] + "...")}' is not an ISO-8601 date and time; use e.g. 2026-11-28T09:30:00Z (or with an offset such as +01:00, URL-encoded as %2B01:00).");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$")]
    private static partial Regex IsoInstant();
}
