namespace Registry.Web.Security;

/// <summary>
/// Headers on every response. The content security policy allows only the registry's own scripts
/// and connections (Blazor's WebSocket included); MudBlazor needs inline styles. The API reference
/// page (Scalar) starts itself with an inline module script and gets that one allowance.
/// </summary>
internal static class SecurityHeaders
{
    public static Task InvokeAsync(HttpContext http, Func<Task> next)
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            var host = http.Request.Host.Value;
            var scripts = http.Request.Path.StartsWithSegments("/scalar") ? "'self' 'unsafe-inline'" : "'self'";
            headers.ContentSecurityPolicy =
                $"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
                $"connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        return next();
    }
}
