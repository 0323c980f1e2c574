using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Registry.Core.Access;

namespace Registry.Web.Security;

/// <summary>The claims the registry puts on a principal, and how an <see cref="Actor"/> is read back from them.</summary>
public static class RegistryClaims
{
    public const string Scope = "registry:scope";
    public const string KeyId = "registry:key_id";
    public const string KeyName = "registry:key_name";
    public const string MustChangePassword = "registry:must_change_password";

    /// <summary>The actor of a request or circuit: the principal's user and, for key callers, the key and its scopes.</summary>
    public static Actor ToActor(ClaimsPrincipal principal, string? clientAddress)
    {
        if (principal.Identity?.IsAuthenticated != true || !long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
            return Actor.Anonymous with { ClientAddress = clientAddress };
        var role = Enum.TryParse<Role>(principal.FindFirstValue(ClaimTypes.Role), out var r) ? r : Role.Viewer;
        long? keyId = long.TryParse(principal.FindFirstValue(KeyId), out var k) ? k : null;
        var scopes = keyId is null ? Scopes.All : RoleScopes.Parse(principal.FindAll(Scope).Select(c => c.Value)) ?? Scopes.None;
        return new Actor(principal.Identity.Name ?? "?", id, role, keyId, principal.FindFirstValue(KeyName), scopes, clientAddress);
    }

    public static Actor ActorOf(this HttpContext http) => ToActor(http.User, http.Connection.RemoteIpAddress?.ToString());
}

/// <summary>Adds the role and the must-change-password mark to a signed-in person's cookie principal.</summary>
internal sealed class RegistryClaimsPrincipalFactory(UserManager<RegistryUser> users, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<RegistryUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(RegistryUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(ClaimTypes.Role, user.Role.ToString()));
        if (user.MustChangePassword) identity.AddClaim(new Claim(RegistryClaims.MustChangePassword, "true"));
        return identity;
    }
}
