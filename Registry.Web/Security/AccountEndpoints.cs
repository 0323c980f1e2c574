using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Persistence;
using Registry.Data;

namespace Registry.Web.Security;

/// <summary>
/// Signing in and out and changing the password: plain form posts from the static account pages, so
/// that the cookie is set by an HTTP response. Each form carries an antiforgery token.
/// </summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // Antiforgery is checked by hand so that a stale form (an old tab, a restarted server) leads
        // back to the form with a word of explanation rather than to an error page.
        var account = app.MapGroup("/account").ExcludeFromDescription().DisableAntiforgery().AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http)) return await next(context);
            var back = http.Request.Path.StartsWithSegments("/account/password") ? "/account/password" : "/login";
            return Results.LocalRedirect($"{back}?error=expired");
        });
        account.MapPost("/login", LoginAsync).AllowAnonymous();
        account.MapPost("/logout", LogoutAsync).AllowAnonymous();
        account.MapPost("/password", ChangePasswordAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> LoginAsync([FromForm] string? username, [FromForm] string? password, [FromForm] string? returnUrl,
        HttpContext http, SignInManager<RegistryUser> signIn, IDbContextFactory<RegistryDbContext> dbs, TimeProvider clock)
    {
        var target = LocalUrl(returnUrl);
        var user = string.IsNullOrWhiteSpace(username) ? null : await signIn.UserManager.FindByNameAsync(username.Trim());
        if (user is { Disabled: false, IsService: false } && !string.IsNullOrEmpty(password))
        {
            var result = await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: true);
            if (result.Succeeded)
            {
                user.LastSignInAt = clock.GetUtcNow();
                await signIn.UserManager.UpdateAsync(user);
                return Results.LocalRedirect(user.MustChangePassword ? $"/account/password?returnUrl={Uri.EscapeDataString(target)}" : target);
            }
            if (result.IsLockedOut)
            {
                await RecordFailureAsync(dbs, clock, http, username!, "locked out");
                var until = user.LockoutEnd is { } end ? end.ToUnixTimeSeconds() : 0;
                return Results.LocalRedirect($"/login?error=locked&until={until}&returnUrl={Uri.EscapeDataString(target)}");
            }
        }
        await RecordFailureAsync(dbs, clock, http, username ?? "", "wrong name or password");
        return Results.LocalRedirect($"/login?error=invalid&returnUrl={Uri.EscapeDataString(target)}");
    }

    private static async Task<IResult> LogoutAsync(SignInManager<RegistryUser> signIn)
    {
        await signIn.SignOutAsync();
        return Results.LocalRedirect("/login?signedOut=true");
    }

    private static async Task<IResult> ChangePasswordAsync([FromForm] string? current, [FromForm] string? password, [FromForm] string? confirm,
        [FromForm] string? returnUrl, HttpContext http, SignInManager<RegistryUser> signIn, IDbContextFactory<RegistryDbContext> dbs,
        TimeProvider clock, DataPaths paths)
    {
        var target = LocalUrl(returnUrl);
        var user = await signIn.UserManager.GetUserAsync(http.User);
        if (user is null) return Results.LocalRedirect("/login");
        string? problem = null;
        if (string.IsNullOrEmpty(password) || password != confirm) problem = "The new passwords are not the same.";
        else if (password == current) problem = "Choose a password different from the current one.";
        if (problem is null)
        {
            var changed = await signIn.UserManager.ChangePasswordAsync(user, current ?? "", password!);
            if (!changed.Succeeded)
                problem = string.Join(" ", changed.Errors.Select(e => e.Code == "PasswordMismatch" ? "The current password is not right." : e.Description));
        }
        if (problem is not null)
            return Results.LocalRedirect($"/account/password?error={Uri.EscapeDataString(problem)}&returnUrl={Uri.EscapeDataString(target)}");

        user.MustChangePassword = false;
        await signIn.UserManager.UpdateAsync(user);
        await signIn.RefreshSignInAsync(user);
        await using (var db = await dbs.CreateDbContextAsync())
        {
            db.Record(clock.GetUtcNow(), http.ActorOf(), "account.password_changed", $"user:{user.UserName}");
            await db.SaveChangesAsync();
        }
        // The first-run password has served its purpose.
        if (user.Role == Role.Admin) File.Delete(AdminAccount.InitialPasswordFile(paths));
        return Results.LocalRedirect(target);
    }

    private static async Task RecordFailureAsync(IDbContextFactory<RegistryDbContext> dbs, TimeProvider clock, HttpContext http, string username, string why)
    {
        await using var db = await dbs.CreateDbContextAsync();
        var name = username.Length > 100 ? username[..100] : username;
        db.Record(clock.GetUtcNow(), name.Length == 0 ? "(no name)" : name, http.Connection.RemoteIpAddress?.ToString(),
            "account.signin_failed", $"user:{name}", after: new { reason = why });
        await db.SaveChangesAsync();
    }

    /// <summary>Only a path on this site: a return address from a query string never leads elsewhere.</summary>
    public static string LocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
