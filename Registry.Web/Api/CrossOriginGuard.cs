using Microsoft.AspNetCore.Mvc;

namespace Registry.Web.Api;

/// <summary>
/// Refuses state-changing API requests that a browser sends on behalf of another site. Browsers
/// mark every request with <c>Sec-Fetch-Site</c> and cross-origin ones with <c>Origin</c>; scripts
/// and services (curl, pipelines) send neither and are unaffected. Without this, any web page open
/// on a machine that can reach the registry could upload to it with a plain form post.
/// </summary>
internal static class CrossOriginGuard
{
    public static async Task InvokeAsync(HttpContext http, Func<Task> next)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
        {
            await next();
            return;
        }

        var fetchSite = http.Request.Headers["Sec-Fetch-Site"].ToString();
        var origin = http.Request.Headers.Origin.ToString();
        var crossSite = fetchSite.Length > 0 && fetchSite is not ("same-origin" or "none");
        var foreignOrigin = origin.Length > 0 && !SameOrigin(origin, http.Request);
        if (!crossSite && !foreignOrigin)
        {
            await next();
            return;
        }

        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Cross-origin request refused",
                Detail = $"A page from {(origin.Length > 0 ? origin : "another site")} may not change this registry. Use the registry's own pages, or call the API from a script or service.",
            },
        });
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) &&
        string.Equals(o.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
