using Microsoft.EntityFrameworkCore;
using Registry.Core.Persistence;

namespace Registry.Core.Access;

/// <summary>
/// The check every service that changes state makes before it does: the actor's account still
/// exists and is enabled, its role (re-read from the database, so that a revoked role stops working
/// at once, even in an open browser session) reaches the permission's, and a key used still holds,
/// has not expired and carries the scope.
/// </summary>
public sealed class AccessGuard(IDbContextFactory<RegistryDbContext> dbFactory, TimeProvider clock)
{
    public async Task<RegistryError?> DemandAsync(Actor actor, Permission permission, CancellationToken ct = default)
    {
        if (ReferenceEquals(actor, Actor.Validator)) return null;
        if (actor.UserId is not { } userId)
            return RegistryError.Unauthorized($"Sign in, or send an API key (Authorization: Bearer …), for {permission.Describes}.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.UserName, u.Role, u.Disabled, u.MustChangePassword }).SingleOrDefaultAsync(ct);
        if (user is null || user.Disabled)
            return RegistryError.Unauthorized($"The account '{actor.Name}' is {(user is null ? "gone" : "disabled")}; ask an admin.");
        if (user.MustChangePassword && actor.KeyId is null && actor.Via is null)
            return RegistryError.Forbidden("Choose a new password first (/account/password): the one you signed in with was for one use.");
        if (user.Role < permission.Role)
            return RegistryError.Forbidden($"{Capitalize(permission.Describes)} needs the {permission.Role} role; '{user.UserName}' is a {user.Role}.");

        if (actor.KeyId is { } keyId)
        {
            var key = await db.ApiKeys.AsNoTracking().Where(k => k.Id == keyId)
                .Select(k => new { k.Name, k.Scopes, k.RevokedAt, k.ExpiresAt, k.UserId }).SingleOrDefaultAsync(ct);
            if (key is null || key.UserId != userId || key.RevokedAt is not null)
                return RegistryError.Unauthorized($"The API key '{actor.KeyName}' has been revoked.");
            if (key.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
                return RegistryError.Unauthorized($"The API key '{key.Name}' expired on {expires:yyyy-MM-dd HH:mm} UTC.");
            if (!key.Scopes.HasFlag(permission.Scope))
                return RegistryError.Forbidden(
                    $"{Capitalize(permission.Describes)} needs an API key with the '{RoleScopes.Describe(permission.Scope)}' scope; '{key.Name}' has {RoleScopes.Describe(key.Scopes)}.");
        }
        return null;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
