using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;
using Registry.Core.Access;

namespace Registry.Web.Security;

/// <summary>An endpoint or page needs this permission (role, and scope for keys).</summary>
internal sealed class PermissionRequirement(Permission permission) : IAuthorizationRequirement
{
    public Permission Permission { get; } = permission;
}

/// <summary>
/// Grants a permission from the principal's claims: a role at least the permission's, the scope when
/// a key is used, and no pending password change. Anonymous reading is granted when an admin allows it.
/// </summary>
internal sealed class PermissionHandler(RegistrySettings settings) : AuthorizationHandler<PermissionRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        var p = requirement.Permission;
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            if (p == Permission.Read && await settings.AllowAnonymousReadAsync()) context.Succeed(requirement);
            return;
        }
        var actor = RegistryClaims.ToActor(user, null);
        if (user.HasClaim(c => c.Type == RegistryClaims.MustChangePassword))
            context.Fail(new AuthorizationFailureReason(this, "Choose a new password first (/account/password): the one you signed in with was for one use."));
        else if (actor.Role < p.Role)
            context.Fail(new AuthorizationFailureReason(this, $"{Capitalize(p.Describes)} needs the {p.Role} role; '{actor.Name}' is a {actor.Role}."));
        else if (!actor.Scopes.HasFlag(p.Scope))
            context.Fail(new AuthorizationFailureReason(this,
                $"{Capitalize(p.Describes)} needs an API key with the '{RoleScopes.Describe(p.Scope)}' scope; '{actor.KeyName}' has {RoleScopes.Describe(actor.Scopes)}."));
        else
            context.Succeed(requirement);
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>
/// For the API, a refusal is a problem+json answer that says why: 401 with what is wrong with the
/// credentials, 403 with what is missing. Pages keep the default (the sign-in redirect).
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (!context.Request.Path.StartsWithSegments("/api") || result.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (result.Challenged)
        {
            var failure = await context.AuthenticateAsync();
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Title = "Not signed in",
                    Detail = failure.Failure?.Message
                        ?? "Send an API key as Authorization: Bearer <key>, or sign in. Keys are created under My API keys or with POST " + Api.ApiLinks.Keys() + ".",
                },
            });
            return;
        }
        var reason = result.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "Your role or your key's scopes do not allow this.";
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Not allowed", Detail = reason },
        });
    }
}

public static class PermissionEndpointExtensions
{
    /// <summary>Requires a permission of everything in the group or endpoint.</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, Permission permission) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(permission.Policy);
}
