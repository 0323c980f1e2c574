using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Promotions;

/// <summary>What services read: production now and at past instants, aliases, ETags, the history behind them.</summary>
public class ServingApiTests : AppTests
{
    private HttpClient Approver { get; set; } = null!;
    private HttpClient Service { get; set; } = null!;

    protected override async Task ArrangeAsync()
    {
        Approver = await App.ClientAsAsync(Role.Approver, user: "alice");
        Service = await App.ClientAsAsync(Role.Viewer, Scopes.Read, user: "scorer");
        (await Admin.PostAsync("/api/v1/models", Json("""{"name": "served"}"""))).EnsureSuccessStatusCode();
    }

    private async Task<DateTimeOffset> PromoteAsync(int version, string target)
    {
        var request = await Admin.RequestOkAsync("served", version, target);
        if (request.Status() == "Open") request = await Approver.DecideOkAsync(request.Id(), "approve");
        Assert.Equal("Applied", request.Status());
        var history = await (await Admin.GetAsync("/api/v1/models/served/history?pageSize=1")).JsonAsync();
        await Task.Delay(15); // the next move happens at a later instant
        return history.GetProperty("items")[0].GetProperty("at").GetDateTimeOffset();
    }

    private async Task<HttpResponseMessage> ProductionAtAsync(string? at) =>
        await Service.GetAsync("/api/v1/models/served/stages/production" + (at is null ? "" : "?at=" + Uri.EscapeDataString(at)));

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");

    [Fact]
    public async Task Production_at_an_instant_matches_the_history_at_several_instants()
    {
        var before = DateTimeOffset.UtcNow;
        await Task.Delay(15);
        var v1 = await App.UploadValidatedAsync(Admin, "served");
        var v2 = await App.UploadValidatedAsync(Admin, "served");
        await PromoteAsync(v1, "Staging");
        var t1 = await PromoteAsync(v1, "Production");
        await PromoteAsync(v2, "Staging");
        var t2 = await PromoteAsync(v2, "Production");  // v1 archived at the same instant
        var t3 = await PromoteAsync(v1, "Production");  // rollback; v2 archived

        var expected = new (DateTimeOffset At, int? Version)[]
        {
            (before, null), (t1.AddTicks(-10), null), (t1, v1), (t2.AddTicks(-10), v1), (t2, v2), (t3.AddTicks(-10), v2), (t3, v1), (DateTimeOffset.UtcNow, v1),
        };
        foreach (var (at, version) in expected)
        {
            var response = await ProductionAtAsync(Iso(at));
            if (version is null)
            {
                var problem = await response.ProblemAsync(404);
                Assert.Contains("had no version in production at", problem.GetProperty("detail").GetString());
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"at {Iso(at)}: {(int)response.StatusCode}");
            var body = await response.JsonAsync();
            Assert.True(version == body.GetProperty("version").GetInt32(), $"at {Iso(at)} expected v{version}, got {body}");
        }

        // The answer replays the history: every instant in it, newest first, agrees.
        var history = await (await Admin.GetAsync("/api/v1/models/served/history?pageSize=100")).JsonAsync();
        var moves = history.GetProperty("items").EnumerateArray().Reverse().ToList();
        int? replayed = null;
        foreach (var group in moves.GroupBy(m => m.GetProperty("at").GetDateTimeOffset()))
        {
            foreach (var move in group)
            {
                if (move.GetProperty("fromStage").GetString() == "Production") { Assert.Equal(replayed, move.GetProperty("version").GetInt32()); replayed = null; }
                if (move.GetProperty("toStage").GetString() == "Production") { Assert.Null(replayed); replayed = move.GetProperty("version").GetInt32(); }
            }
            var answer = await ProductionAtAsync(Iso(group.Key));
            if (replayed is null) await answer.ProblemAsync(404);
            else Assert.Equal(replayed, (await answer.JsonAsync()).GetProperty("version").GetInt32());
        }

        // Now, with the reason and who; an offset in the instant is understood, also with an unencoded '+'.
        var now = await (await ProductionAtAsync(null)).JsonAsync();
        Assert.Equal((v1, "alice (key key)"), (now.GetProperty("version").GetInt32(), now.GetProperty("by").GetString()));
        Assert.Equal($"/api/v1/models/served/versions/{v1}/artifact", now.GetProperty("artifact").GetString());
        var local = t2.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz");
        Assert.Equal(v2, (await (await ProductionAtAsync(local)).JsonAsync()).GetProperty("version").GetInt32());
        Assert.Equal(v2, (await (await Service.GetAsync($"/api/v1/models/served/stages/production?at={local}")).JsonAsync()).GetProperty("version").GetInt32());
        foreach (var wrong in new[] { "yesterday", "2026-11-28 09:30", "28/11/2026", "2026-11-28T09:30:00+0100x" })
        {
            var bad = await (await ProductionAtAsync(wrong)).ProblemAsync(400);
            Assert.Contains("not an ISO-8601 date and time", bad.GetProperty("detail").GetString());
        }
        await (await ProductionAtAsync(before.UtcDateTime.ToString("yyyy-MM-dd"))).ProblemAsync(404); // a date is its midnight, UTC
        await (await Service.GetAsync("/api/v1/models/nope/stages/production")).ProblemAsync(404);
    }

    [Fact]
    public async Task Pollers_get_304_until_production_changes()
    {
        var none = await (await ProductionAtAsync(null)).ProblemAsync(404);
        Assert.Contains("has no version in production", none.GetProperty("detail").GetString());
        var v1 = await App.UploadValidatedAsync(Admin, "served");
        var v2 = await App.UploadValidatedAsync(Admin, "served");
        await PromoteAsync(v1, "Staging");
        await PromoteAsync(v1, "Production");

        var first = await ProductionAtAsync(null);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        var unchanged = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/served/stages/production");
        unchanged.Headers.IfNoneMatch.Add(etag);
        var notModified = await Service.SendAsync(unchanged);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        await PromoteAsync(v2, "Staging");
        await PromoteAsync(v2, "Production");
        var changed = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/served/stages/production");
        changed.Headers.IfNoneMatch.Add(etag);
        var fresh = await Service.SendAsync(changed);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.NotEqual(etag, fresh.Headers.ETag);
        Assert.Equal(v2, (await fresh.JsonAsync()).GetProperty("version").GetInt32());

        // Back to v1 between two polls: same version as the first answer, yet a new move, so a new ETag.
        await PromoteAsync(v1, "Production");
        var back = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/served/stages/production");
        back.Headers.IfNoneMatch.Add(etag);
        var rolledBack = await Service.SendAsync(back);
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        Assert.Equal(v1, (await rolledBack.JsonAsync()).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Aliases_are_set_moved_and_removed_by_approvers_with_history_etags_and_audit()
    {
        var v1 = await App.UploadValidatedAsync(Admin, "served");
        var v2 = await App.UploadValidatedAsync(Admin, "served");
        (await Admin.UploadAsync("served", OnnxModels.Identity("unvalidated"))).EnsureSuccessStatusCode();

        async Task<HttpResponseMessage> PutAsync(HttpClient client, string alias, string body) =>
            await client.PutAsync($"/api/v1/models/served/aliases/{alias}", Json(body));

        await (await PutAsync(await App.ClientAsAsync(Role.Contributor), "champion", """{"version": 1}""")).ProblemAsync(403);
        var unvalidated = await (await PutAsync(Approver, "champion", """{"version": 3}""")).ProblemAsync(409);
        Assert.Contains("validation is still Pending", unvalidated.GetProperty("detail").GetString());
        Assert.Contains("is reserved", (await (await PutAsync(Approver, "production", """{"version": 1}""")).ProblemAsync(400)).GetProperty("detail").GetString());
        await (await PutAsync(Approver, "Bad_Name", """{"version": 1}""")).ProblemAsync(400);
        await (await PutAsync(Approver, "champion", """{}""")).ProblemAsync(422);
        await (await PutAsync(Approver, "champion", """{"version": 9}""")).ProblemAsync(404);

        var set = await (await PutAsync(Approver, "champion", """{"version": 1, "comment": "best auc"}""")).JsonAsync();
        Assert.Equal((v1, "alice (key key)"), (set.GetProperty("version").GetInt32(), set.GetProperty("updatedBy").GetString()));
        var read = await Service.GetAsync("/api/v1/models/served/aliases/champion");
        var etag = read.Headers.ETag!;
        var body = await read.JsonAsync();
        Assert.Equal((v1, "champion", "best auc"), (body.GetProperty("version").GetInt32(), body.GetProperty("name").GetString(), body.GetProperty("reason").GetString()));
        await Task.Delay(15);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(15);

        await PutAsync(Approver, "challenger", """{"version": 2}""");
        (await PutAsync(Approver, "champion", """{"version": 2}""")).EnsureSuccessStatusCode();
        var conditional = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/served/aliases/champion");
        conditional.Headers.IfNoneMatch.Add(etag);
        var moved = await Service.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(v2, (await moved.JsonAsync()).GetProperty("version").GetInt32());
        var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models/served/aliases/champion");
        again.Headers.IfNoneMatch.Add(moved.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await Service.SendAsync(again)).StatusCode);

        var list = await (await Service.GetAsync("/api/v1/models/served/aliases")).JsonAsync();
        Assert.Equal(["challenger:2", "champion:2"], list.EnumerateArray().Select(a => $"{a.GetProperty("alias").GetString()}:{a.GetProperty("version").GetInt32()}"));

        var deleted = await Approver.DeleteAsync("/api/v1/models/served/aliases/champion");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await (await Service.GetAsync("/api/v1/models/served/aliases/champion")).ProblemAsync(404);
        await (await Approver.DeleteAsync("/api/v1/models/served/aliases/champion")).ProblemAsync(404);
        var past = await (await Service.GetAsync($"/api/v1/models/served/aliases/champion?at={Uri.EscapeDataString(Iso(between))}")).JsonAsync();
        Assert.Equal(v1, past.GetProperty("version").GetInt32());

        var history = await (await Service.GetAsync("/api/v1/models/served/history")).JsonAsync();
        var aliasLines = history.GetProperty("items").EnumerateArray().Where(h => h.GetProperty("kind").GetString() == "Alias")
            .Select(h => $"{h.GetProperty("alias").GetString()} {Num(h, "previousVersion")}→{Num(h, "version")}").ToList();
        Assert.Equal(["champion 2→-", "champion 1→2", "challenger -→2", "champion -→1"], aliasLines);
        var audit = await (await Admin.GetAsync("/api/v1/audit?pageSize=100")).JsonAsync();
        var actions = audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Where(a => a!.StartsWith("alias.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["alias.removed", "alias.set", "alias.set", "alias.set"], actions);

        static string Num(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? "-" : e.GetProperty(name).GetInt32().ToString();
    }
}

public class PromotionSettingsTests
{
    [Fact]
    public async Task A_default_policy_that_could_not_be_saved_stops_the_server_naming_what_is_wrong()
    {
        await using var app = new RegistryApp(new Dictionary<string, string?>
        {
            ["Registry:Promotion:DefaultPolicy:RequiredApprovals:Production"] = "-1",
            ["Registry:Promotion:DefaultPolicy:Latency:Percentile"] = "p90",
        });
        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());
        var message = error is Microsoft.Extensions.Options.OptionsValidationException o ? string.Join(" ", o.Failures) : error.ToString();
        Assert.Contains("Registry:Promotion:DefaultPolicy: A move to production needs between 1 and 10 approvals", message);
        Assert.Contains("Latency percentile 'p90' is not measured", message);
    }

    [Fact]
    public async Task The_default_policy_comes_from_configuration()
    {
        await using var app = new RegistryApp(new Dictionary<string, string?>
        {
            ["Registry:Promotion:DefaultPolicy:RequiredApprovals:Production"] = "2",
            ["Registry:Promotion:DefaultPolicy:MetricRules:0:Metric"] = "auc",
            ["Registry:Promotion:DefaultPolicy:MetricRules:0:Min"] = "0.8",
        });
        var client = app.CreateClient();
        (await client.PostAsync("/api/v1/models", UploadRequests.Json("""{"name": "configured"}"""))).EnsureSuccessStatusCode();
        var policy = (await (await client.GetAsync("/api/v1/models/configured/policy")).JsonAsync()).GetProperty("policy");
        Assert.Equal(2, policy.GetProperty("requiredApprovals").GetProperty("production").GetInt32());
        Assert.Equal(0, policy.GetProperty("requiredApprovals").GetProperty("staging").GetInt32());
        var rule = Assert.Single(policy.GetProperty("metricRules").EnumerateArray().ToList());
        Assert.Equal(("auc", 0.8), (rule.GetProperty("metric").GetString(), rule.GetProperty("min").GetDouble()));
    }
}
