using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Access;
using Registry.Core.Catalog;
using Registry.Core.Validation;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Access;

public class AuditTests : AppTests
{
    private Task<List<(long Id, string Actor, string Action, string Target, string? Client)>> EventsAsync() => App.DbAsync(db =>
        db.AuditEvents.OrderBy(e => e.Id).Select(e => new ValueTuple<long, string, string, string, string?>(e.Id, e.Actor, e.Action, e.Target, e.ClientAddress)).ToListAsync());

    [Fact]
    public async Task Every_state_changing_endpoint_writes_exactly_one_event_naming_its_actor()
    {
        await App.EnsureServiceAccountAsync("svc", Role.Viewer);
        var steps = new (string Name, Func<Task<HttpResponseMessage>> Call, string Action)[]
        {
            ("create model", () => Admin.PostAsync("/api/v1/models", Json("""{"name": "audited"}""")), "model.created"),
            ("upload", () => Admin.UploadAsync("audited", OnnxModels.Identity()), "version.created"),
            ("upload creating its model", () => Admin.UploadAsync("fresh", OnnxModels.Identity("2")), "version.created"),
            ("edit model", () => Admin.PatchAsync("/api/v1/models/audited", Json("""{"description": "edited", "card": "# Card"}""")), "model.updated"),
            ("edit version", () => Admin.PatchAsync("/api/v1/models/audited/versions/1", Json("""{"tags": {"team": "risk"}}""")), "version.updated"),
            ("log metrics", () => Admin.PostAsync("/api/v1/models/audited/versions/1/metrics", Json("""{"metrics": [{"key": "auc", "value": 0.9}]}""")), "metrics.logged"),
            ("add lineage", () => Admin.PostAsync("/api/v1/models/audited/versions/1/lineage", Json("""{"parents": [{"model": "fresh", "version": 1, "relation": "fine-tuned-from"}], "datasets": [{"name": "d"}]}""")), "lineage.added"),
            ("revalidate", async () => { await FinishValidationAsync(); return await Admin.PostAsync("/api/v1/models/audited/versions/1/validation", null); }, "validation.requested"),
            ("create user", () => Admin.PostAsync("/api/v1/users", Json("""{"name": "erin", "role": "Viewer"}""")), "user.created"),
            ("change user", () => Admin.PatchAsync("/api/v1/users/erin", Json("""{"role": "Contributor"}""")), "user.updated"),
            ("create own key", () => Admin.PostAsync("/api/v1/keys", Json("""{"name": "mine", "scopes": ["read"]}""")), "key.created"),
            ("create service key", () => Admin.PostAsync("/api/v1/users/svc/keys", Json("""{"name": "svc-key", "scopes": ["read"]}""")), "key.created"),
            ("revoke key", async () => await Admin.DeleteAsync($"/api/v1/keys/{await KeyIdAsync("mine")}"), "key.revoked"),
            ("change settings", () => Admin.PatchAsync("/api/v1/settings", Json("""{"allowAnonymousRead": true}""")), "settings.changed"),
        };

        foreach (var (name, call, action) in steps)
        {
            var before = await EventsAsync();
            var response = await call();
            Assert.True(response.IsSuccessStatusCode, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var added = (await EventsAsync()).Where(e => before.All(b => b.Id != e.Id) && e.Action != "validation.completed").ToList();
            var one = Assert.Single(added);
            Assert.Equal((action, "admin (key tests)"), (one.Action, one.Actor));
        }

        // A refused request changes nothing; an invalid one records nothing, a forbidden one that it was refused.
        var viewer = await App.ClientAsAsync(Role.Viewer);
        var count = (await EventsAsync()).Count;
        await (await Admin.PostAsync("/api/v1/models", Json("""{"name": "a..b"}"""))).ProblemAsync(422);
        Assert.Equal(count, (await EventsAsync()).Count);
        await (await viewer.UploadAsync("nope", OnnxModels.Identity())).ProblemAsync(403);
        var refused = Assert.Single((await EventsAsync()).Skip(count));
        Assert.Equal(("access.denied", "POST /api/v1/models/nope/versions"), (refused.Action, refused.Target));
    }

    [Fact]
    public async Task A_write_refused_to_an_authenticated_caller_is_audited_and_a_refused_read_is_not()
    {
        var viewer = await App.ClientAsAsync(Role.Viewer, user: "peeker");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.UploadAsync("forbidden-model", OnnxModels.Identity())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/v1/audit")).StatusCode);

        var denied = await App.DbAsync(db => db.AuditEvents.Where(e => e.Action == "access.denied" && e.Actor.StartsWith("peeker")).ToListAsync());
        var only = Assert.Single(denied);
        Assert.Equal("POST /api/v1/models/forbidden-model/versions", only.Target);
        Assert.True((await (await Admin.GetAsync("/api/v1/audit/verify")).JsonAsync()).GetProperty("intact").GetBoolean());
    }

    [Fact]
    public async Task A_restart_does_not_seal_an_event_whose_hash_was_blanked()
    {
        var data = RegistryApp.NewDataDirectory();
        long victim;
        await using (var first = new RegistryApp(dataDirectory: data))
        {
            var admin = first.CreateClient();
            for (var i = 0; i < 4; i++) (await admin.UploadAsync($"m{i}", OnnxModels.Identity($"{i}"))).EnsureSuccessStatusCode();
            victim = await first.DbAsync(db => db.AuditEvents.Where(e => e.Action == "version.created").OrderBy(e => e.Id).Skip(1).Select(e => e.Id).FirstAsync());
            // Tampering that covers its tracks: the event is altered and its own hash and the hashes after it blanked.
            await first.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"Actor\" = 'mallory', \"Hash\" = '' WHERE \"Id\" >= {victim}"));
        }

        await using var second = new RegistryApp(dataDirectory: data);
        var verified = await (await second.CreateClient().GetAsync("/api/v1/audit/verify")).JsonAsync();

        Assert.False(verified.GetProperty("intact").GetBoolean(), verified.ToString());
        Assert.Equal(victim, verified.GetProperty("brokenAt").GetInt64());
    }

    [Fact]
    public async Task Verify_finds_an_altered_event_and_a_removed_one()
    {
        for (var i = 0; i < 5; i++) (await Admin.UploadAsync($"m{i}", OnnxModels.Identity($"{i}"))).EnsureSuccessStatusCode();
        var intact = await (await Admin.GetAsync("/api/v1/audit/verify")).JsonAsync();
        Assert.True(intact.GetProperty("intact").GetBoolean());
        var events = await EventsAsync();
        Assert.Equal(events.Count, intact.GetProperty("checked").GetInt32());

        var victim = events[2].Id;
        await App.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"Actor\" = 'mallory' WHERE \"Id\" = {victim}"));
        var altered = await (await Admin.GetAsync("/api/v1/audit/verify")).JsonAsync();
        Assert.False(altered.GetProperty("intact").GetBoolean());
        Assert.Equal(victim, altered.GetProperty("brokenAt").GetInt64());
        Assert.Contains("altered", altered.GetProperty("problem").GetString());

        await App.DbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"Actor\" = {events[2].Actor} WHERE \"Id\" = {victim}"));
        var removed = events[3].Id;
        await App.DbAsync(db => db.Database.ExecuteSqlAsync($"DELETE FROM \"AuditEvents\" WHERE \"Id\" = {removed}"));
        var gap = await (await Admin.GetAsync("/api/v1/audit/verify")).JsonAsync();
        Assert.Equal(events[4].Id, gap.GetProperty("brokenAt").GetInt64());
        Assert.Contains("removed, inserted or reordered", gap.GetProperty("problem").GetString());
    }

    [Fact]
    public async Task The_audit_log_is_filtered_and_paged_for_admins()
    {
        (await Admin.UploadAsync("filtered", OnnxModels.Identity())).EnsureSuccessStatusCode();
        var page = await (await Admin.GetAsync("/api/v1/audit?action=version.&target=filtered&pageSize=5")).JsonAsync();
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal("version:filtered/1", page.GetProperty("items")[0].GetProperty("target").GetString());
        var byActor = await (await Admin.GetAsync("/api/v1/audit?actor=nobody-at-all")).JsonAsync();
        Assert.Equal(0, byActor.GetProperty("total").GetInt32());
        await (await (await App.ClientAsAsync(Role.Approver)).GetAsync("/api/v1/audit")).ProblemAsync(403);
    }

    [Fact]
    public async Task Promotions_aliases_and_policies_write_exactly_their_events_in_the_order_things_happened()
    {
        var carol = await App.ClientAsAsync(Role.Contributor, user: "carol");
        const string Carol = "carol (key key)", AdminKey = "admin (key tests)";
        await App.UploadValidatedAsync(carol, "flow");
        await App.UploadValidatedAsync(carol, "flow");

        async Task<HttpResponseMessage> ExpectAsync(Func<Task<HttpResponseMessage>> call, params string[] expected)
        {
            var before = (await EventsAsync()).Select(e => e.Id).ToHashSet();
            var response = await call();
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var added = (await EventsAsync()).Where(e => !before.Contains(e.Id)).Select(e => $"{e.Action} {e.Target} by {e.Actor}");
            Assert.Equal(expected, added);
            return response;
        }

        await ExpectAsync(() => carol.RequestPromotionAsync("flow", 1, "Staging"),
            $"promotion.requested version:flow/1 by {Carol}", $"stage.changed version:flow/1 by {Carol}");
        var up = await (await ExpectAsync(() => carol.RequestPromotionAsync("flow", 1, "Production"), $"promotion.requested version:flow/1 by {Carol}")).JsonAsync();
        await ExpectAsync(() => Admin.DecideAsync(up.Id(), "approve"),
            $"promotion.approved version:flow/1 by {AdminKey}", $"stage.changed version:flow/1 by {AdminKey}");
        await carol.RequestOkAsync("flow", 2, "Staging");
        var replace = await carol.RequestOkAsync("flow", 2, "Production");
        await ExpectAsync(() => Admin.DecideAsync(replace.Id(), "approve"),
            $"promotion.approved version:flow/2 by {AdminKey}", $"stage.changed version:flow/1 by {AdminKey}", $"stage.changed version:flow/2 by {AdminKey}");

        var rollback = await carol.RequestOkAsync("flow", 1, "Production");
        await ExpectAsync(() => Admin.DecideAsync(rollback.Id(), "reject", "not now"), $"promotion.rejected version:flow/1 by {AdminKey}");
        var again = await carol.RequestOkAsync("flow", 1, "Production");
        await ExpectAsync(() => carol.DecideAsync(again.Id(), "cancel"), $"promotion.cancelled version:flow/1 by {Carol}");

        await ExpectAsync(() => Admin.PutAsync("/api/v1/models/flow/aliases/champion", Json("""{"version": 2}""")), $"alias.set alias:flow/champion by {AdminKey}");
        await ExpectAsync(() => Admin.DeleteAsync("/api/v1/models/flow/aliases/champion"), $"alias.removed alias:flow/champion by {AdminKey}");
        await ExpectAsync(() => Admin.PutAsync("/api/v1/models/flow/policy", Json("""{"requiredApprovals": {"production": 2}}""")), $"policy.updated model:flow by {AdminKey}");

        // Conflicts record nothing; a forbidden change records only that it was refused.
        var count = (await EventsAsync()).Count;
        await (await carol.RequestPromotionAsync("flow", 2, "Staging")).ProblemAsync(409);
        await (await Admin.DecideAsync(again.Id(), "approve")).ProblemAsync(409);
        Assert.Equal(count, (await EventsAsync()).Count);
        await (await carol.PutAsync("/api/v1/models/flow/policy", Json("{}"))).ProblemAsync(403);
        var refused = Assert.Single((await EventsAsync()).Skip(count));
        Assert.Equal(("access.denied", "PUT /api/v1/models/flow/policy"), (refused.Action, refused.Target));
    }

    private async Task FinishValidationAsync()
    {
        var queue = App.Services.GetRequiredService<ValidationQueue>();
        while (await queue.TryClaimAsync("test", CancellationToken.None) is { } claim)
            await queue.CompleteAsync(claim, new ValidationOutcome(ValidationStatus.Passed, "Passed", [], null, null), CancellationToken.None);
    }

    private async Task<long> KeyIdAsync(string name) => await App.DbAsync(db => db.ApiKeys.Where(k => k.Name == name).Select(k => k.Id).SingleAsync());
}
