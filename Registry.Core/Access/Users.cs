using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Auditing;
using Registry.Core.Persistence;

namespace Registry.Core.Access;

/// <summary>The body of <c>POST /api/v1/users</c>.</summary>
public sealed record CreateUserRequest
{
    public string? Name { get; init; }
    public string? Role { get; init; }
    /// <summary>A service account: no password, keys only.</summary>
    public bool Service { get; init; }
}

/// <summary>The body of <c>PATCH /api/v1/users/{name}</c>; absent fields are left as they are.</summary>
public sealed record UpdateUserRequest
{
    public string? Role { get; init; }
    public bool? Disabled { get; init; }
    /// <summary>Replace the password with a new one-time password (people only).</summary>
    public bool? ResetPassword { get; init; }
}

public sealed record UserView(string Name, string Role, bool Service, bool Disabled, bool MustChangePassword,
    DateTimeOffset CreatedAt, DateTimeOffset? LastSignInAt, int ActiveKeys);

/// <summary>A user just created or reset: the only time a one-time password is shown.</summary>
public sealed record UserWithPassword(UserView User, string? OneTimePassword);

/// <summary>
/// Accounts and their roles, for admins. Each change works with a <see cref="UserManager{TUser}"/>
/// and a context of its own, so a long-lived holder (a Blazor circuit) never reuses a stale one, and
/// saves the user and its audit event in one transaction: both are written, or neither.
/// </summary>
public sealed partial class UserService(
    IDbContextFactory<RegistryDbContext> dbFactory,
    IServiceScopeFactory scopes,
    AccessGuard guard,
    TimeProvider clock)
{
    public async Task<Result<IReadOnlyList<UserView>>> ListAsync(Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ReadAdministration, ct) is { } denied) return denied;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var rows = await db.Users.AsNoTracking().OrderBy(u => u.NormalizedUserName).ToListAsync(ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.RevokedAt == null).Select(k => new { k.UserId, k.ExpiresAt }).ToListAsync(ct);
        return Result<IReadOnlyList<UserView>>.Ok(rows.Select(u => View(u, keys.Count(k => k.UserId == u.Id && !(k.ExpiresAt <= now)))).ToList());
    }

    public async Task<Result<UserWithPassword>> CreateAsync(Actor actor, CreateUserRequest request, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Administer, ct) is { } denied) return denied;
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !UserName().IsMatch(name))
            errors["name"] = ["A user name has 1 to 64 letters, digits, '-', '_', '.' or '@', starting with a letter or digit."];
        if (!TryParseRole(request.Role, out var role))
            errors["role"] = ["The role is one of Viewer, Contributor, Approver, Admin."];
        if (errors.Count > 0) return RegistryError.Invalid("Invalid user", errors.First().Value[0], errors);

        return await ChangeAsync<UserWithPassword>(async (users, db) =>
        {
            var user = new RegistryUser
            {
                UserName = name,
                Role = role,
                IsService = request.Service,
                MustChangePassword = !request.Service,
                CreatedAt = clock.GetUtcNow(),
            };
            var password = request.Service ? null : NewPassword();
            var created = password is null ? await users.CreateAsync(user) : await users.CreateAsync(user, password);
            if (Refusal(created, name!) is { } refused) return refused;
            db.Record(clock.GetUtcNow(), actor, "user.created", $"user:{name}", after: new { role = role.ToString(), service = request.Service });
            return new UserWithPassword(View(user, 0), password);
        }, ct);
    }

    public async Task<Result<UserWithPassword>> UpdateAsync(Actor actor, string name, UpdateUserRequest request, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Administer, ct) is { } denied) return denied;
        Role? newRole = null;
        if (request.Role is not null)
        {
            if (!TryParseRole(request.Role, out var parsed))
                return RegistryError.Invalid("Invalid user", "The role is one of Viewer, Contributor, Approver, Admin.",
                    new Dictionary<string, string[]> { ["role"] = ["The role is one of Viewer, Contributor, Approver, Admin."] });
            newRole = parsed;
        }

        return await ChangeAsync<UserWithPassword>(async (users, db) =>
        {
            var user = await users.FindByNameAsync(name);
            if (user is null) return RegistryError.NotFound($"There is no user named '{name}'.");
            if (request.ResetPassword == true && user.IsService)
                return new RegistryError(ErrorKind.Conflict, "Service account", $"'{user.UserName}' is a service account: it has no password to reset.");

            var losesAdmin = user.Role == Role.Admin && ((newRole is { } r && r != Role.Admin) || request.Disabled == true);
            if (losesAdmin && user.Id == actor.UserId)
                return new RegistryError(ErrorKind.Conflict, "Cannot lock yourself out", "You cannot take away your own Admin role or disable yourself; another admin can.");
            if (losesAdmin && await db.Users.CountAsync(u => u.Role == Role.Admin && !u.Disabled && u.Id != user.Id, ct) == 0)
                return new RegistryError(ErrorKind.Conflict, "Last admin", "This is the last enabled admin; make someone else an admin first.");

            var before = new { role = user.Role.ToString(), disabled = user.Disabled };
            if (newRole is { } role) user.Role = role;
            if (request.Disabled is { } disabled) user.Disabled = disabled;
            string? password = null;
            if (request.ResetPassword == true)
            {
                password = NewPassword();
                user.MustChangePassword = true;
                if (Refusal(await users.RemovePasswordAsync(user), user.UserName!) is { } notRemoved) return notRemoved;
                if (Refusal(await users.AddPasswordAsync(user, password), user.UserName!) is { } notAdded) return notAdded;
            }
            // A new stamp ends existing sign-in sessions at their next check; the services re-read roles at once anyway.
            // It also saves the user, with every change above.
            if (Refusal(await users.UpdateSecurityStampAsync(user), user.UserName!) is { } notSaved) return notSaved;
            db.Record(clock.GetUtcNow(), actor, "user.updated", $"user:{user.UserName}", before: before,
                after: new { role = user.Role.ToString(), disabled = user.Disabled, passwordReset = password is not null });
            var active = await db.ApiKeys.CountAsync(k => k.UserId == user.Id && k.RevokedAt == null, ct);
            return new UserWithPassword(View(user, active), password);
        }, ct);
    }

    /// <summary>
    /// Runs one change with a fresh scope's <see cref="UserManager{TUser}"/> and the context its store
    /// saves through, inside one transaction that commits only when the change succeeds: a refusal
    /// or an exception part-way leaves nothing behind, not even what the user manager already saved.
    /// </summary>
    private async Task<Result<T>> ChangeAsync<T>(Func<UserManager<RegistryUser>, RegistryDbContext, Task<Result<T>>> change, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var result = await change(users, db);
        if (!result.IsSuccess) return result;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// What a failed <see cref="IdentityResult"/> means to the admin, in Identity's own words: a name
    /// taken or a concurrent change is a conflict; anything else is refused content, filed under
    /// the field it concerns.
    /// </summary>
    private static RegistryError? Refusal(IdentityResult result, string name)
    {
        if (result.Succeeded) return null;
        var failures = result.Errors.ToList();
        if (failures.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateUserName)))
            return new RegistryError(ErrorKind.Conflict, "User exists", $"A user named '{name}' already exists (names ignore case).");
        if (failures.Any(e => e.Code is nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            return new RegistryError(ErrorKind.Conflict, "Changed concurrently",
                $"'{name}' was changed by someone else at the same moment; nothing was changed. Look again and retry.");
        var byField = failures.Where(e => FieldOf(e.Code) is not null).GroupBy(e => FieldOf(e.Code)!)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
        return RegistryError.Invalid("Invalid user", string.Join(" ", failures.Select(e => e.Description)), byField.Count > 0 ? byField : null);
    }

    /// <summary>The request field an Identity error concerns, if one does (the one-time password stands for the password rules).</summary>
    private static string? FieldOf(string code) =>
        code.StartsWith("Password", StringComparison.Ordinal) || code == nameof(IdentityErrorDescriber.UserAlreadyHasPassword) ? "password"
        : code.Contains("UserName", StringComparison.Ordinal) ? "name"
        : null;

    /// <summary>A one-time password: 20 characters a person can type, about 100 bits.</summary>
    public static string NewPassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return string.Create(20, 0, (span, _) => { for (var i = 0; i < span.Length; i++) span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]; });
    }

    public static bool TryParseRole(string? text, out Role role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(text, out _);

    private static UserView View(RegistryUser u, int activeKeys) => new(u.UserName!, u.Role.ToString(), u.IsService, u.Disabled,
        u.MustChangePassword, u.CreatedAt, u.LastSignInAt, activeKeys);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@\-]*$")]
    private static partial Regex UserName();
}

/// <summary>Settings an admin changes at run time. Read often, written rarely: cached.</summary>
public sealed class RegistrySettings(IDbContextFactory<RegistryDbContext> dbFactory, AccessGuard guard, TimeProvider clock)
{
    public const string AnonymousReadKey = "allow-anonymous-read";
    private bool? _anonymousRead; // a cache: a stale read after a change in this process is impossible, a race only rereads

    public sealed record View(bool AllowAnonymousRead);

    public sealed record Update
    {
        public bool? AllowAnonymousRead { get; init; }
    }

    /// <summary>Whether people who are not signed in may read the catalogue (never change it).</summary>
    public async Task<bool> AllowAnonymousReadAsync(CancellationToken ct = default)
    {
        if (_anonymousRead is { } cached) return cached;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var value = await db.Settings.AsNoTracking().Where(s => s.Key == AnonymousReadKey).Select(s => s.Value).SingleOrDefaultAsync(ct);
        var allowed = value == "true";
        _anonymousRead = allowed;
        return allowed;
    }

    public async Task<Result<View>> GetAsync(Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.ReadAdministration, ct) is { } denied) return denied;
        return new View(await AllowAnonymousReadAsync(ct));
    }

    public async Task<Result<View>> ChangeAsync(Actor actor, Update update, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Administer, ct) is { } denied) return denied;
        if (update.AllowAnonymousRead is { } allow)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Settings.SingleOrDefaultAsync(s => s.Key == AnonymousReadKey, ct);
            var before = row?.Value == "true";
            if (row is null) db.Settings.Add(new Setting { Key = AnonymousReadKey, Value = allow ? "true" : "false" });
            else row.Value = allow ? "true" : "false";
            db.Record(clock.GetUtcNow(), actor, "settings.changed", "settings", before: new { allowAnonymousRead = before }, after: new { allowAnonymousRead = allow });
            await db.SaveChangesAsync(ct);
            _anonymousRead = allow;
        }
        return new View(await AllowAnonymousReadAsync(ct));
    }
}
