using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Auditing;
using Registry.Core.Persistence;

namespace Registry.Core.Access;

/// <summary>The body of <c>POST /api/v1/keys</c> and <c>POST /api/v1/users/{name}/keys</c>.</summary>
public sealed record CreateKeyRequest
{
    public string? Name { get; init; }
    public List<string>? Scopes { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>A key as listed: never its secret.</summary>
public sealed record KeyView(long Id, string Name, string Owner, string Prefix, string Scopes, DateTimeOffset CreatedAt, string CreatedBy,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt, string Status);

/// <summary>A key just created: the only time its secret is shown.</summary>
public sealed record CreatedKey(KeyView Key, string Secret);

/// <summary>Who a presented key speaks for, when it is valid.</summary>
public sealed record KeyIdentity(long UserId, string UserName, Role Role, long KeyId, string KeyName, Scopes Scopes);

/// <summary>Creates, lists, revokes and checks API keys. Only a SHA-256 of each key is kept.</summary>
public sealed partial class ApiKeyService(IDbContextFactory<RegistryDbContext> dbFactory, AccessGuard guard, TimeProvider clock)
{
    public const string KeyStart = "rk_";
    private const int MaxKeysPerUser = 50;
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    /// <summary>Creates a key for the actor (<paramref name="forUser"/> null), or by an admin for a service account.</summary>
    public async Task<Result<CreatedKey>> CreateAsync(Actor actor, string? forUser, CreateKeyRequest request, CancellationToken ct = default)
    {
        var permission = forUser is null ? Permission.ManageOwnKeys : Permission.Administer;
        if (await guard.DemandAsync(actor, permission, ct) is { } denied) return denied;

        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100 || !KeyName().IsMatch(name))
            errors["name"] = ["A key needs a name of 1 to 100 letters, digits, spaces and '-', '_', '.', such as \"ci-uploader\"."];
        var scopes = request.Scopes is { Count: > 0 } s ? RoleScopes.Parse(s) : null;
        if (scopes is null)
            errors["scopes"] = ["Give one or more of \"read\", \"write\", \"promote\"."];
        var now = clock.GetUtcNow();
        if (request.ExpiresAt is { } expires && expires <= now)
            errors["expiresAt"] = ["The expiry must be in the future."];
        if (errors.Count > 0)
            return RegistryError.Invalid("Invalid key", errors.First().Value[0], errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var owner = forUser is null
            ? await db.Users.SingleAsync(u => u.Id == actor.UserId, ct)
            : await db.Users.SingleOrDefaultAsync(u => u.NormalizedUserName == forUser.ToUpperInvariant(), ct);
        if (owner is null) return RegistryError.NotFound($"There is no user named '{forUser}'.");
        if (forUser is not null && !owner.IsService)
            return new RegistryError(ErrorKind.Conflict, "Not a service account",
                $"'{owner.UserName}' is a person: people create their own keys, signed in as themselves. Admins create keys only for service accounts.",
                See: RegistryLink.OwnKeys);

        var allowed = RoleScopes.Allowed(owner.Role) & (forUser is null ? actor.Scopes : Scopes.All);
        if ((scopes!.Value & ~allowed) != Scopes.None)
            return RegistryError.Forbidden(
                $"A key cannot carry more than its owner may do: '{owner.UserName}' ({owner.Role}{(actor.KeyId is null || forUser is not null ? "" : ", using a key")}) may give {RoleScopes.Describe(allowed)}, not {RoleScopes.Describe(scopes.Value & ~allowed)}.");
        if (await db.ApiKeys.CountAsync(k => k.UserId == owner.Id && k.RevokedAt == null, ct) >= MaxKeysPerUser)
            return new RegistryError(ErrorKind.Conflict, "Too many keys", $"'{owner.UserName}' already has {MaxKeysPerUser} active keys; revoke some first.");

        var (secret, prefix) = NewSecret();
        var key = new ApiKey
        {
            UserId = owner.Id,
            Name = name!,
            Prefix = prefix,
            SecretHash = Hash(secret),
            Scopes = scopes.Value,
            CreatedAt = now,
            CreatedBy = actor.AuditName,
            ExpiresAt = request.ExpiresAt,
        };
        db.ApiKeys.Add(key);
        db.Record(now, actor, "key.created", $"key:{owner.UserName}/{key.Name}",
            after: new { prefix, scopes = RoleScopes.Describe(key.Scopes), expiresAt = key.ExpiresAt });
        await db.SaveChangesAsync(ct);
        return new CreatedKey(View(key, owner.UserName!, now), secret);
    }

    /// <summary>The actor's own keys, or (admins) those of <paramref name="forUser"/>; newest first, without secrets.</summary>
    public async Task<Result<IReadOnlyList<KeyView>>> ListAsync(Actor actor, string? forUser, CancellationToken ct = default)
    {
        var permission = forUser is null ? Permission.ReadOwnKeys : Permission.ReadAdministration;
        if (await guard.DemandAsync(actor, permission, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        long? ownerId = forUser is null
            ? actor.UserId
            : await db.Users.Where(u => u.NormalizedUserName == forUser.ToUpperInvariant()).Select(u => (long?)u.Id).SingleOrDefaultAsync(ct);
        if (ownerId is null) return RegistryError.NotFound($"There is no user named '{forUser}'.");
        var now = clock.GetUtcNow();
        var keys = await db.ApiKeys.AsNoTracking().Include(k => k.User).Where(k => k.UserId == ownerId).ToListAsync(ct);
        return Result<IReadOnlyList<KeyView>>.Ok(keys.OrderByDescending(k => k.CreatedAt).Select(k => View(k, k.User.UserName!, now)).ToList());
    }

    /// <summary>Revokes one of the actor's keys (admins: any key). It stops working at once.</summary>
    public async Task<Result<KeyView>> RevokeAsync(Actor actor, long keyId, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ManageOwnKeys, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.Include(k => k.User).SingleOrDefaultAsync(k => k.Id == keyId, ct);
        var isAdmin = actor.Role == Role.Admin && await guard.DemandAsync(actor, Permission.Administer, ct) is null;
        // Someone else's key is "not found" to a non-admin: its existence is not theirs to learn.
        if (key is null || (key.UserId != actor.UserId && !isAdmin))
            return RegistryError.NotFound($"You have no API key with id {keyId}.");
        var now = clock.GetUtcNow();
        if (key.RevokedAt is null)
        {
            key.RevokedAt = now;
            key.RevokedBy = actor.AuditName;
            db.Record(now, actor, "key.revoked", $"key:{key.User.UserName}/{key.Name}", before: new { status = "active" }, after: new { status = "revoked" });
            await db.SaveChangesAsync(ct);
        }
        return View(key, key.User.UserName!, now);
    }

    /// <summary>Checks a presented key; null unless it is well-formed, known, unrevoked, unexpired and its owner enabled.</summary>
    public async Task<KeyIdentity?> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        var prefix = PrefixOf(presented);
        if (prefix is null) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.AsNoTracking().Include(k => k.User).SingleOrDefaultAsync(k => k.Prefix == prefix, ct);
        if (key is null) return null;
        var matches = CryptographicOperations.FixedTimeEquals(Convert.FromHexString(key.SecretHash), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        var now = clock.GetUtcNow();
        if (!matches || key.RevokedAt is not null || key.ExpiresAt <= now || key.User.Disabled) return null;
        if (key.LastUsedAt is null || now - key.LastUsedAt > LastUsedGranularity)
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        return new KeyIdentity(key.UserId, key.User.UserName!, key.User.Role, key.Id, key.Name, key.Scopes);
    }

    /// <summary>Why a presented key does not work, for the 401's detail (revoked, expired…), without saying more than the holder knows.</summary>
    public async Task<string> ExplainRefusalAsync(string presented, CancellationToken ct = default)
    {
        var prefix = PrefixOf(presented);
        if (prefix is null) return $"The bearer token is not a Registry API key (they start with '{KeyStart}').";
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.AsNoTracking().Include(k => k.User).SingleOrDefaultAsync(k => k.Prefix == prefix, ct);
        if (key is null || !CryptographicOperations.FixedTimeEquals(Convert.FromHexString(key.SecretHash), SHA256.HashData(Encoding.UTF8.GetBytes(presented))))
            return "The API key is not known. Check that it was copied whole.";
        if (key.RevokedAt is { } revoked) return $"The API key '{key.Name}' was revoked on {revoked:yyyy-MM-dd HH:mm} UTC.";
        if (key.ExpiresAt is { } expires && expires <= clock.GetUtcNow()) return $"The API key '{key.Name}' expired on {expires:yyyy-MM-dd HH:mm} UTC.";
        if (key.User.Disabled) return $"The account '{key.User.UserName}' that owns this key is disabled.";
        return "The API key is not valid.";
    }

    internal static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static (string Secret, string Prefix) NewSecret()
    {
        const string alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        var prefix = string.Create(10, 0, (span, _) => { for (var i = 0; i < span.Length; i++) span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]; });
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return ($"{KeyStart}{prefix}_{secret}", prefix);
    }

    private static string? PrefixOf(string presented)
    {
        if (!presented.StartsWith(KeyStart, StringComparison.Ordinal) || presented.Length > 200) return null;
        var end = presented.IndexOf('_', KeyStart.Length);
        return end > KeyStart.Length ? presented[KeyStart.Length..end] : null;
    }

    private static KeyView View(ApiKey k, string owner, DateTimeOffset now) => new(k.Id, k.Name, owner, k.Prefix, RoleScopes.Describe(k.Scopes),
        k.CreatedAt, k.CreatedBy, k.ExpiresAt, k.RevokedAt, k.LastUsedAt,
        k.RevokedAt is not null ? "revoked" : k.ExpiresAt <= now ? "expired" : "active");

    [GeneratedRegex(@"^[A-Za-z0-9 _.\-]+$")]
    private static partial Regex KeyName();
}
