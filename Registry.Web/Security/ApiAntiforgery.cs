using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Registry.Web.Security;

/// <summary>
/// A state-changing API request that authenticates with the sign-in cookie must carry the page's
/// antiforgery token (header <c>X-CSRF-TOKEN</c>): the cookie alone would let another site act for
/// the person. Requests with an API key carry no cookie and need no token.
/// </summary>
internal static class ApiAntiforgery
{
    public const string Header = "X-CSRF-TOKEN";

    public static async Task InvokeAsync(HttpContext http, Func<Task> next)
    {
        var unsafeMethod = !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method));
        var cookieAuthenticated = http.User.Identity?.IsAuthenticated == true && ApiKeyAuthenticationHandler.BearerToken(http.Request) is null;
        if (unsafeMethod && cookieAuthenticated && !await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Missing antiforgery token",
                    Detail = $"A request signed in by cookie must come from the registry's own pages with their token ({Header}). Scripts and services use an API key instead.",
                },
            });
            return;
        }
        await next();
    }
}
