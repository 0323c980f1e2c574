using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Data;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Access;

/// <summary>
/// A user change and its audit event are one unit, and what Identity refuses reaches the admin in
/// Identity's words. Faults are switched on per test: passwords Identity refuses, an audit write that fails.
/// </summary>
public class UserChangeTests : AppTests
{
    private static readonly Faults Injected = new();

    public UserChangeTests() : base(new RegistryApp(testServices: services =>
    {
        // Whichever provider the suite runs on.
        services.ConfigureDbContext<SqliteRegistryDbContext>(o => o.AddInterceptors(Injected));
        services.ConfigureDbContext<Registry.Data.PostgreSql.PostgreSqlRegistryDbContext>(o => o.AddInterceptors(Injected));
        services.AddScoped<IPasswordValidator<RegistryUser>>(_ => Injected);
    }))
    {
        // One app per test, but the switches are shared: off before the app starts (it creates the first admin);
        // tests of one class never run in parallel with each other.
        Injected.RefusePasswords = false;
        Injected.FailUserAudit = false;
    }

    private static readonly string PasswordRule = new IdentityErrorDescriber().PasswordRequiresDigit().Description;

    private Task<RegistryUser?> UserAsync(string name) =>
        App.DbAsync(db => db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedUserName == name.ToUpperInvariant()));

    private Task<List<string>> EventsAsync(string name) =>
        App.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.Target == $"user:{name}").Select(e => e.Action).ToListAsync());

    [Fact]
    public async Task A_password_Identity_refuses_is_a_problem_in_its_words_under_the_password_field_and_changes_nothing()
    {
        Injected.RefusePasswords = true;
        var refused = await (await Admin.PostAsync("/api/v1/users", Json("""{"name": "bob", "role": "Viewer"}"""))).ProblemAsync(422);
        Assert.Contains(PasswordRule, refused.GetProperty("detail").GetString());
        Assert.Equal(PasswordRule, refused.GetProperty("errors").GetProperty("password")[0].GetString());
        Assert.Null(await UserAsync("bob"));
        Assert.Empty(await EventsAsync("bob"));

        // A reset refused after the old password was already removed (and saved) leaves the user as it was, role included.
        Injected.RefusePasswords = false;
        (await Admin.PostAsync("/api/v1/users", Json("""{"name": "bob", "role": "Viewer"}"""))).EnsureSuccessStatusCode();
        var before = (await UserAsync("bob"))!;
        Injected.RefusePasswords = true;
        var reset = await (await Admin.PatchAsync("/api/v1/users/bob", Json("""{"role": "Approver", "resetPassword": true}"""))).ProblemAsync(422);
        Assert.Equal(PasswordRule, reset.GetProperty("errors").GetProperty("password")[0].GetString());
        var after = (await UserAsync("bob"))!;
        Assert.Equal((Role.Viewer, before.PasswordHash, before.SecurityStamp), (after.Role, after.PasswordHash, after.SecurityStamp));
        Assert.Equal(["user.created"], await EventsAsync("bob"));
    }

    [Fact]
    public async Task A_name_taken_is_a_conflict()
    {
        (await Admin.PostAsync("/api/v1/users", Json("""{"name": "dora", "role": "Viewer", "service": true}"""))).EnsureSuccessStatusCode();
        var taken = await (await Admin.PostAsync("/api/v1/users", Json("""{"name": "DORA", "role": "Admin"}"""))).ProblemAsync(409);
        Assert.Contains("A user named 'DORA' already exists", taken.GetProperty("detail").GetString());
        Assert.Equal(["user.created"], await EventsAsync("dora"));
    }

    [Fact]
    public async Task A_user_change_and_its_audit_event_are_both_written_or_neither()
    {
        Injected.FailUserAudit = true;
        var failed = await Admin.PostAsync("/api/v1/users", Json("""{"name": "carol", "role": "Viewer"}"""));
        Assert.Equal(500, (int)failed.StatusCode);
        Assert.Null(await UserAsync("carol"));
        Assert.Empty(await EventsAsync("carol"));

        Injected.FailUserAudit = false;
        (await Admin.PostAsync("/api/v1/users", Json("""{"name": "carol", "role": "Viewer"}"""))).EnsureSuccessStatusCode();
        Assert.NotNull(await UserAsync("carol"));
        Assert.Equal(["user.created"], await EventsAsync("carol"));

        Injected.FailUserAudit = true;
        Assert.Equal(500, (int)(await Admin.PatchAsync("/api/v1/users/carol", Json("""{"role": "Approver", "disabled": true}"""))).StatusCode);
        var unchanged = (await UserAsync("carol"))!;
        Assert.Equal((Role.Viewer, false), (unchanged.Role, unchanged.Disabled));
        Assert.Equal(["user.created"], await EventsAsync("carol"));

        Injected.FailUserAudit = false;
        (await Admin.PatchAsync("/api/v1/users/carol", Json("""{"role": "Approver"}"""))).EnsureSuccessStatusCode();
        Assert.Equal(Role.Approver, (await UserAsync("carol"))!.Role);
        Assert.Equal(["user.created", "user.updated"], await EventsAsync("carol"));
    }

    /// <summary>Passwords refused as Identity's own validator would; an audit event of a user change that cannot be written.</summary>
    private sealed class Faults : SaveChangesInterceptor, IPasswordValidator<RegistryUser>
    {
        public volatile bool RefusePasswords;
        public volatile bool FailUserAudit;

        public Task<IdentityResult> ValidateAsync(UserManager<RegistryUser> manager, RegistryUser user, string? password) =>
            Task.FromResult(RefusePasswords ? IdentityResult.Failed(new IdentityErrorDescriber().PasswordRequiresDigit()) : IdentityResult.Success);

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default)
        {
            if (FailUserAudit && eventData.Context!.ChangeTracker.Entries<AuditEvent>()
                    .Any(e => e.State == EntityState.Added && e.Entity.Action.StartsWith("user.", StringComparison.Ordinal)))
                throw new InvalidOperationException("The audit log could not be written (injected by the test).");
            return base.SavingChangesAsync(eventData, result, cancellationToken);
        }
    }
}
