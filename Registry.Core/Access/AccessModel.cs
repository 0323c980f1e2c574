using Microsoft.AspNetCore.Identity;

namespace Registry.Core.Access;

/// <summary>What a person may do; each role includes every role below it.</summary>
public enum Role
{
    /// <summary>Reads models, versions, metrics, validation.</summary>
    Viewer = 1,
    /// <summary>Also uploads, edits metadata, logs metrics, re-runs validation, requests promotions.</summary>
    Contributor = 2,
    /// <summary>Also approves or rejects promotions and sets aliases.</summary>
    Approver = 3,
    /// <summary>Also manages users, roles, other people's API keys and settings, and reads the audit log.</summary>
    Admin = 4,
}

/// <summary>What an API key may be used for; a key never carries more than its owner's role allows.</summary>
[Flags]
public enum Scopes
{
    None = 0,
    Read = 1,
    Write = 2,
    Promote = 4,
    All = Read | Write | Promote,
}

/// <summary>An account: a person who signs in with a password, or a service that only uses API keys.</summary>
public sealed class RegistryUser : IdentityUser<long>
{
    public Role Role { get; set; } = Role.Viewer;

    /// <summary>A service account has no password and authenticates with keys an admin created for it.</summary>
    public bool IsService { get; set; }

    /// <summary>A disabled account cannot sign in, and its keys stop working at once.</summary>
    public bool Disabled { get; set; }

    /// <summary>Set for one-time passwords: the next sign-in must choose a new password before anything else.</summary>
    public bool MustChangePassword { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }
}

/// <summary>An API key. Only its SHA-256 and a short lookup prefix are stored; the secret is shown once.</summary>
public sealed class ApiKey
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public RegistryUser User { get; init; } = null!;
    public required string Name { get; init; }

    /// <summary>The public part of the key (<c>rk_&lt;prefix&gt;_…</c>), used to find it without scanning.</summary>
    public required string Prefix { get; init; }

    /// <summary>Lower-case hex SHA-256 of the whole key.</summary>
    public required string SecretHash { get; init; }

    public Scopes Scopes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
}

/// <summary>A setting an admin changes at run time (stored, audited), such as anonymous read access.</summary>
public sealed class Setting
{
    public required string Key { get; init; }
    public required string Value { get; set; }
}

/// <summary>
/// What an action needs: a minimum role and, when the caller uses an API key, a scope. Endpoint
/// policies and the services that change state check the same permission.
/// </summary>
public sealed record Permission(string Name, Role Role, Scopes Scope, string Describes)
{
    public static readonly Permission Read = new("read", Role.Viewer, Scopes.Read, "reading the catalogue");
    public static readonly Permission Write = new("write", Role.Contributor, Scopes.Write, "uploading and changing models, versions and metrics");
    public static readonly Permission Validate = new("validate", Role.Contributor, Scopes.Write, "re-running validation");
    public static readonly Permission ReadOwnKeys = new("keys.read", Role.Viewer, Scopes.Read, "listing your API keys");
    public static readonly Permission ManageOwnKeys = new("keys.write", Role.Viewer, Scopes.Write, "creating and revoking your API keys");
    public static readonly Permission ReadAdministration = new("admin.read", Role.Admin, Scopes.Read, "reading users, settings and the audit log");
    public static readonly Permission Administer = new("admin.write", Role.Admin, Scopes.Write, "managing users, keys of others and settings");
    public static readonly Permission RequestPromotion = new("promote.request", Role.Contributor, Scopes.Promote, "requesting and cancelling promotions");
    public static readonly Permission Approve = new("promote.approve", Role.Approver, Scopes.Promote, "approving and rejecting promotions");
    public static readonly Permission ManageAliases = new("aliases.write", Role.Approver, Scopes.Promote, "setting and removing aliases");
    public static readonly Permission ManagePolicy = new("policy.write", Role.Approver, Scopes.Promote, "changing a model's promotion policy");

    public static readonly IReadOnlyList<Permission> All =
        [Read, Write, Validate, ReadOwnKeys, ManageOwnKeys, ReadAdministration, Administer, RequestPromotion, Approve, ManageAliases, ManagePolicy];

    /// <summary>The name of the authorization policy that demands this permission.</summary>
    public string Policy => $"registry:{Name}";
}

/// <summary>
/// Who is acting, as the services see it: the signed-in user, or the owner of the API key used,
/// with the key's scopes. Built by the web layer from the authenticated principal, never from a
/// request body.
/// </summary>
public sealed record Actor(string Name, long? UserId, Role Role, long? KeyId, string? KeyName, Scopes Scopes, string? ClientAddress)
{
    /// <summary>How the actor reached the registry when it was not a web request: "cli" for the command line.</summary>
    public string? Via { get; init; }

    /// <summary>The registry itself (the validator): not a person, never subject to a role check.</summary>
    public static readonly Actor Validator = new("validator", null, Role.Admin, null, null, Scopes.All, null);

    /// <summary>The registry acting on its own: applying a promotion that became ready after its last approval.</summary>
    public static readonly Actor Registry = new("registry", null, Role.Admin, null, null, Scopes.All, null);

    /// <summary>Nobody signed in.</summary>
    public static readonly Actor Anonymous = new("anonymous", null, 0, null, null, Scopes.None, null);

    public bool IsAuthenticated => UserId is not null;

    /// <summary>How the audit log names the actor: "alice", or "alice (key ci-uploader)".</summary>
    public string AuditName => KeyName is not null ? $"{Name} (key {KeyName})" : Via is not null ? $"{Name} ({Via})" : Name;

    /// <summary>A person acting through the UI or a cookie session: every scope their role allows.</summary>
    public static Actor ForUser(RegistryUser user, string? clientAddress = null) =>
        new(user.UserName!, user.Id, user.Role, null, null, Scopes.All, clientAddress);
}

/// <summary>Which scopes each role may put on a key.</summary>
public static class RoleScopes
{
    public static Scopes Allowed(Role role) => role switch
    {
        Role.Viewer => Scopes.Read,
        _ => Scopes.All,
    };

    public static string Describe(Scopes scopes) => scopes == Scopes.None
        ? "none"
        : string.Join(",", new[] { Scopes.Read, Scopes.Write, Scopes.Promote }.Where(s => scopes.HasFlag(s)).Select(s => s.ToString().ToLowerInvariant()));

    public static Scopes? Parse(IEnumerable<string> names)
    {
        var scopes = Scopes.None;
        foreach (var name in names)
        {
            var one = name.Trim().ToLowerInvariant() switch
            {
                "read" => Scopes.Read,
                "write" => Scopes.Write,
                "promote" => Scopes.Promote,
                _ => Scopes.None,
            };
            if (one == Scopes.None) return null;
            scopes |= one;
        }
        return scopes;
    }
}
