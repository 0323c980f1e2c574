using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Promotions;

public class PromotionConcurrencyTests : AppTests
{
    [Fact]
    public async Task Twenty_approvals_in_parallel_leave_one_production_version_a_consistent_history_and_no_500()
    {
        const int count = 20;
        var contributor = await App.ClientAsAsync(Role.Contributor, user: "carol");
        (await Admin.PostAsync("/api/v1/models", Json("""{"name": "raced"}"""))).EnsureSuccessStatusCode();
        // Each candidate must not be worse than production: whoever gets in first raises the bar for the rest.
        (await Admin.PutAsync("/api/v1/models/raced/policy", Json("""
            {"requiredApprovals": {"production": 1}, "metricRules": [{"metric": "auc", "rule": "not-worse-than-production"}]}
            """))).EnsureSuccessStatusCode();
        var aucs = Enumerable.Range(0, count).Select(i => 0.5 + ((i * 7) % count) / 100.0).ToArray(); // distinct, shuffled
        var requests = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var auc = aucs[i].ToString(CultureInfo.InvariantCulture);
            var v = await App.UploadValidatedAsync(contributor, "raced", metadata: $$"""{"metrics": [{"key": "auc", "value": {{auc}}}]}""");
            await contributor.RequestOkAsync("raced", v, "Staging");
            requests.Add((await contributor.RequestOkAsync("raced", v, "Production")).Id());
        }

        // Each approval from a different approver, all at once.
        var approvers = new List<HttpClient>();
        for (var i = 0; i < count; i++) approvers.Add(await App.ClientAsAsync(Role.Approver, user: $"approver-{i}"));
        using var start = new SemaphoreSlim(0);
        var calls = requests.Select(async (id, i) =>
        {
            await start.WaitAsync();
            var response = await approvers[i].DecideAsync(id, "approve", "race");
            return (Id: id, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }).ToList();
        start.Release(count);
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"#{r.Id}: {(int)r.StatusCode} {r.Body}"));
        foreach (var loser in results.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            Assert.Contains("changed while this was being applied", loser.Body);

        // Exactly one production version, and it is the one the API and the history name.
        var stages = await Admin.StagesAsync("raced");
        var production = Assert.Single(stages, s => s.Value == "Production").Key;
        Assert.Equal(production, (await (await Admin.GetAsync("/api/v1/models/raced/stages/production")).JsonAsync()).GetProperty("version").GetInt32());

        // Each request either went in (and may since have been replaced) or is still open, evaluated again against a better production.
        var applied = new List<int>();
        foreach (var id in requests)
        {
            var request = await (await Admin.GetAsync($"/api/v1/promotions/{id}")).JsonAsync();
            var version = request.GetProperty("version").GetInt32();
            if (request.Status() == "Applied") applied.Add(version);
            else
            {
                Assert.Equal("Open", request.Status());
                Assert.True(stages[version] == "Staging");
                var failed = request.Gate("metric auc not worse than production");
                Assert.True(failed.GetProperty("status").GetString() == "Failed" || request.GetProperty("approvals").GetInt32() == 0, request.ToString());
            }
        }
        Assert.Contains(production, applied);
        Assert.All(applied.Where(v => v != production), v => Assert.Equal("Archived", stages[v]));

        // The history replays to the same answer, one production version at every step, in the order of the audit trail.
        var history = await App.DbAsync(db => db.ModelHistory.OrderBy(h => h.Id)
            .Select(h => new { h.VersionId, h.FromStage, h.ToStage, Number = h.Version!.Number }).ToListAsync());
        int? current = null;
        var entered = new List<int>();
        foreach (var move in history)
        {
            if (move.FromStage == Registry.Core.Catalog.Stage.Production) { Assert.Equal(current, move.Number); current = null; }
            if (move.ToStage == Registry.Core.Catalog.Stage.Production) { Assert.Null(current); current = move.Number; entered.Add(move.Number); }
        }
        Assert.Equal(production, current);
        Assert.Equal(applied.Order(), entered.Order());
        // Each entry after the first went in only by beating the one it replaced.
        for (var i = 1; i < entered.Count; i++) Assert.True(aucs[entered[i] - 1] >= aucs[entered[i - 1] - 1]);
        var stageEvents = await App.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "stage.changed"));
        Assert.Equal(history.Count, stageEvents);
        Assert.True((await (await Admin.GetAsync("/api/v1/audit/verify")).JsonAsync()).GetProperty("intact").GetBoolean());
    }
}
