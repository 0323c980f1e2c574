using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Registry.Core;

namespace Registry.Web.Api;

/// <summary>Maps the domain's refusals to RFC 9457 problem responses.</summary>
internal static class Problems
{
    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.BadRequest => StatusCodes.Status400BadRequest,
        ErrorKind.Invalid => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// The problem for a refusal. A hint of where to go (<see cref="RegistryError.See"/>) becomes a
    /// <c>links</c> extension (<c>{"promotions": "/api/v1/promotions"}</c>) and, for a person
    /// reading the detail, the REST call it means.
    /// </summary>
    public static ProblemHttpResult ToProblem(this RegistryError error)
    {
        ProblemDetails problem = error.Errors is { Count: > 0 } errors
            ? new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value))
            : new ProblemDetails();
        problem.Status = StatusOf(error.Kind);
        problem.Title = error.Title;
        problem.Detail = error.Detail;
        if (error.See is { } see)
        {
            var (name, method, path) = ApiLinks.For(see);
            problem.Detail = $"{error.Detail} See {method} {path}.";
            problem.Extensions["links"] = new Dictionary<string, string> { [name] = path };
        }
        return TypedResults.Problem(problem);
    }

    /// <summary>For failures of the server itself; the detail still tells an operator where to look.</summary>
    public static ProblemHttpResult ServerError(string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = title, Detail = detail });

    /// <summary>Gives a problem body to error statuses that carry none (an unknown route, a wrong method).</summary>
    public static async Task WriteForBareStatusAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound =>
                $"No API endpoint matches '{http.Request.Path}'. The API reference is at /scalar/v1 and the OpenAPI document at /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on '{http.Request.Path}'.",
            StatusCodes.Status415UnsupportedMediaType =>
                $"This endpoint reads JSON: send the body with Content-Type: application/json (got '{http.Request.ContentType ?? "none"}').",
            _ => null,
        };
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }
}
