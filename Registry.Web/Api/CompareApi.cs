using Microsoft.AspNetCore.Http.HttpResults;
using Registry.Core;
using Registry.Core.Access;
using Registry.Core.Comparison;
using Registry.Web.Security;

namespace Registry.Web.Api;

/// <summary>Versions side by side (<c>/api/v1/compare</c>, also as CSV) and a metric's trend across a model's versions.</summary>
public static class CompareApi
{
    public static IEndpointRouteBuilder MapCompareApi(this IEndpointRouteBuilder app)
    {
        var compare = app.MapGroup("/api/v1/compare").WithTags("Compare");
        compare.MapGet("/", Compare).RequirePermission(Permission.Read)
            .WithName("CompareVersions")
            .WithSummary("2–10 versions side by side (?versions=model:1,model:2,other:5&baseline=model:1): metrics with the best per row and deltas, system metrics, signature differences, tags, lineage")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        compare.MapGet("/csv", CompareCsv).RequirePermission(Permission.Read)
            .WithName("CompareVersionsCsv")
            .WithSummary("The same comparison as a CSV file, one column per version")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/api/v1/models/{name}/metrics/{key}/series", Series).RequirePermission(Permission.Read).WithTags("Compare")
            .WithName("GetMetricSeries")
            .WithSummary("A metric across every version of a model (x = version), one line per dataset; latest value per version")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Result<ComparisonView>> CompareAsync(string? versions, string? baseline, ComparisonQueries queries, CancellationToken ct)
    {
        var refs = ComparisonQueries.ParseList(versions);
        if (!refs.IsSuccess) return refs.Error!;
        VersionRef? baseRef = null;
        if (!string.IsNullOrWhiteSpace(baseline) && (baseRef = VersionRef.Parse(baseline)) is null)
            return RegistryError.BadRequest("Invalid baseline", $"baseline='{baseline}' is not a version reference; write model:version.");
        return await queries.CompareAsync(refs.Value, baseRef, ct);
    }

    private static async Task<Results<Ok<ComparisonView>, ProblemHttpResult>> Compare(string? versions, string? baseline, ComparisonQueries queries, CancellationToken ct) =>
        PromotionsApi.Answer(await CompareAsync(versions, baseline, queries, ct));

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CompareCsv(string? versions, string? baseline, ComparisonQueries queries, CancellationToken ct)
    {
        var comparison = await CompareAsync(versions, baseline, queries, ct);
        if (!comparison.IsSuccess) return comparison.Error!.ToProblem();
        var bytes = System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(ComparisonQueries.ToCsv(comparison.Value))).ToArray();
        return TypedResults.File(bytes, "text/csv; charset=utf-8", "compare.csv");
    }

    private static async Task<Results<Ok<MetricSeries>, ProblemHttpResult>> Series(string name, string key, ComparisonQueries queries, CancellationToken ct) =>
        PromotionsApi.Answer(await queries.SeriesAsync(name, key, ct));
}
