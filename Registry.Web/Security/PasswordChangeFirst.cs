namespace Registry.Web.Security;

/// <summary>
/// A person signed in with a one-time password sees only the page where they choose a new one: every
/// other page redirects there. (The API refuses them through the permission policy.)
/// </summary>
internal static class PasswordChangeFirst
{
    public static Task InvokeAsync(HttpContext http, Func<Task> next)
    {
        var path = http.Request.Path;
        if (http.User.HasClaim(c => c.Type == RegistryClaims.MustChangePassword)
            && HttpMethods.IsGet(http.Request.Method)
            && !path.StartsWithSegments("/api") && !path.StartsWithSegments("/account") && !path.StartsWithSegments("/login")
            && !path.StartsWithSegments("/_framework") && !path.StartsWithSegments("/_content") && !path.StartsWithSegments("/_blazor")
            && !Path.HasExtension(path.Value))
        {
            http.Response.Redirect($"/account/password?returnUrl={Uri.EscapeDataString(path + http.Request.QueryString)}");
            return Task.CompletedTask;
        }
        return next();
    }
}
