using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Registry.Core.Access;

namespace Registry.Web.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer rk_…</c>. Every request re-checks the key and its owner in
/// the database, so a revoked key, an expired key or a disabled account stops working at once.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } presented) return AuthenticateResult.NoResult();
        var identity = await keys.AuthenticateAsync(presented, Context.RequestAborted);
        if (identity is null)
            return AuthenticateResult.Fail(await keys.ExplainRefusalAsync(presented, Context.RequestAborted));

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, identity.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, identity.UserName),
            new(ClaimTypes.Role, identity.Role.ToString()),
            new(RegistryClaims.KeyId, identity.KeyId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(RegistryClaims.KeyName, identity.KeyName),
        };
        claims.AddRange(RoleScopes.Describe(identity.Scopes).Split(',').Select(s => new Claim(RegistryClaims.Scope, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}
