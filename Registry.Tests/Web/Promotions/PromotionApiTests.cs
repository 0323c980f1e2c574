using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Access;
using Registry.Core.Onnx;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Promotions;

/// <summary>Promotion requests over the API: the moves, four eyes, policy, gates, stale requests, rejection and cancelling.</summary>
public class PromotionApiTests : AppTests
{
    private HttpClient Contributor { get; set; } = null!;
    private HttpClient Approver { get; set; } = null!;
    private HttpClient SecondApprover { get; set; } = null!;

    protected override async Task ArrangeAsync()
    {
        Contributor = await App.ClientAsAsync(Role.Contributor, user: "carol");
        Approver = await App.ClientAsAsync(Role.Approver, user: "alice");
        SecondApprover = await App.ClientAsAsync(Role.Approver, user: "bob");
    }

    private Task<HttpResponseMessage> PutPolicyAsync(string model, string json, HttpClient? client = null) =>
        (client ?? Admin).PutAsync($"/api/v1/models/{model}/policy", Json(json));

    [Fact]
    public async Task Every_allowed_move_is_applied_and_every_other_is_refused_with_the_moves_that_exist()
    {
        var v1 = await App.UploadValidatedAsync(Contributor, "fraud");
        var v2 = await App.UploadValidatedAsync(Contributor, "fraud");

        async Task RefusedAsync(int version, string target, string expected)
        {
            var problem = await (await Contributor.RequestPromotionAsync("fraud", version, target)).ProblemAsync(409);
            Assert.Equal(expected, problem.GetProperty("detail").GetString());
        }

        // From None only to Staging.
        await RefusedAsync(v1, "Production", "fraud v1 is in None and cannot move to Production. From None a version can move to Staging.");
        await RefusedAsync(v1, "Archived", "fraud v1 is in None and cannot move to Archived. From None a version can move to Staging.");
        var staged = await Contributor.RequestOkAsync("fraud", v1, "Staging", "first look");
        Assert.Equal(("Applied", 0), (staged.Status(), staged.GetProperty("requiredApprovals").GetInt32())); // no approval needed: applied at once
        await RefusedAsync(v1, "Staging", "fraud v1 is already in Staging.");

        // Staging → Production needs an approval; then Production → Archived (as weighty as going up) also does.
        var up = await Contributor.RequestOkAsync("fraud", v1, "Production", "ship it");
        Assert.Equal(("Open", 1, 0), (up.Status(), up.GetProperty("requiredApprovals").GetInt32(), up.GetProperty("approvals").GetInt32()));
        Assert.Equal("Staging", (await Contributor.StagesAsync("fraud"))[v1]);
        Assert.Equal("Applied", (await Approver.DecideOkAsync(up.Id(), "approve", "looks good")).Status());
        Assert.Equal("Production", (await Contributor.StagesAsync("fraud"))[v1]);
        await RefusedAsync(v1, "Staging", "fraud v1 is in Production and cannot move to Staging. From Production a version can move to Archived.");

        var down = await Contributor.RequestOkAsync("fraud", v1, "Archived", "retire");
        Assert.Equal(("Open", 1), (down.Status(), down.GetProperty("requiredApprovals").GetInt32()));
        Assert.Equal("Applied", (await Approver.DecideOkAsync(down.Id(), "approve")).Status());
        Assert.Equal("Archived", (await Contributor.StagesAsync("fraud"))[v1]);
        await (await Contributor.GetAsync("/api/v1/models/fraud/stages/production")).ProblemAsync(404);

        // Rollback: Archived → Production under the same rules; Archived → Staging for another look.
        var back = await Contributor.RequestOkAsync("fraud", v1, "Production", "roll back");
        Assert.Equal("Open", back.Status());
        Assert.Equal("Applied", (await Approver.DecideOkAsync(back.Id(), "approve")).Status());
        Assert.Equal("Production", (await Contributor.StagesAsync("fraud"))[v1]);

        await Contributor.RequestOkAsync("fraud", v2, "Staging");
        await Contributor.RequestOkAsync("fraud", v2, "Archived");
        await RefusedAsync(v2, "Archived", "fraud v2 is already in Archived.");
        Assert.Equal("Applied", (await Contributor.RequestOkAsync("fraud", v2, "Staging")).Status());
        Assert.Equal(new Dictionary<int, string> { [v1] = "Production", [v2] = "Staging" }, await Contributor.StagesAsync("fraud"));

        // Not stages one can ask for.
        foreach (var target in new[] { "None", "Live", "2", "" })
        {
            var problem = await (await Contributor.RequestPromotionAsync("fraud", v2, target)).ProblemAsync(422);
            Assert.Contains("Staging, Production or Archived", problem.GetProperty("detail").GetString());
        }
        await (await Contributor.RequestPromotionAsync("fraud", 9, "Staging")).ProblemAsync(404);
        await (await Contributor.RequestPromotionAsync("nope", 1, "Staging")).ProblemAsync(404);
        await (await Contributor.PostAsync("/api/v1/models/fraud/versions/2/promotions", Json("{"))).ProblemAsync(400);
    }

    [Fact]
    public async Task A_request_waits_for_validation_and_is_applied_by_the_registry_when_it_passes()
    {
        (await Contributor.UploadAsync("late", OnnxModels.Identity())).EnsureSuccessStatusCode();
        var request = await Contributor.RequestOkAsync("late", 1, "Staging");
        Assert.Equal("Open", request.Status());
        var gate = request.Gate("validation");
        Assert.Equal("Failed", gate.GetProperty("status").GetString());
        Assert.Equal("late v1's validation is still Pending. Wait for it to pass.", gate.GetProperty("message").GetString());

        await App.FinishNextValidationAsync(status: Registry.Core.Catalog.ValidationStatus.Failed);
        var preview = await (await Contributor.GetAsync("/api/v1/models/late/versions/1/promotions/preview?targetStage=Staging")).JsonAsync();
        Assert.False(preview.GetProperty("gatesPassed").GetBoolean());
        Assert.Contains("late v1's latest validation failed (failed check: smoke — The model failed to run.)",
            preview.Gate("validation").GetProperty("message").GetString());
        Assert.Equal("None", (await Contributor.StagesAsync("late"))[1]);

        (await Admin.PostAsync("/api/v1/models/late/versions/1/validation", null)).EnsureSuccessStatusCode();
        await App.FinishNextValidationAsync();
        var applied = await PollAsync(async () => await (await Contributor.GetAsync($"/api/v1/promotions/{request.Id()}")).JsonAsync(),
            r => r.Status() == "Applied");
        Assert.Equal("registry", applied.GetProperty("closedBy").GetString());
        Assert.Equal("Staging", (await Contributor.StagesAsync("late"))[1]);
        await (await Contributor.GetAsync("/api/v1/models/late/versions/1/promotions/preview?targetStage=Live")).ProblemAsync(422);
    }

    [Fact]
    public async Task Four_eyes_the_requester_never_approves_their_own_request_and_one_approval_counts_once()
    {
        await App.UploadValidatedAsync(Admin, "eyes");
        await App.UploadValidatedAsync(Admin, "eyes");
        await Admin.RequestOkAsync("eyes", 1, "Staging");
        await Admin.RequestOkAsync("eyes", 2, "Staging");

        // An approver (and an admin) who asked cannot approve, not even with another of their keys.
        var own = await Approver.RequestOkAsync("eyes", 1, "Production");
        var problem = await (await Approver.DecideAsync(own.Id(), "approve")).ProblemAsync(403);
        Assert.Contains("someone else must approve it (four eyes)", problem.GetProperty("detail").GetString());
        var aliceOtherKey = App.CreateClient();
        aliceOtherKey.DefaultRequestHeaders.Authorization = new("Bearer", await App.CreateKeyAsync("alice", Scopes.All, "second"));
        await (await aliceOtherKey.DecideAsync(own.Id(), "approve")).ProblemAsync(403);
        var byAdmin = await Admin.RequestOkAsync("eyes", 2, "Production");
        await (await Admin.DecideAsync(byAdmin.Id(), "approve")).ProblemAsync(403);
        await (await Contributor.DecideAsync(byAdmin.Id(), "approve")).ProblemAsync(403); // not an approver at all

        // With two approvals required, the same person twice is one approval.
        (await PutPolicyAsync("eyes", """{"requiredApprovals": {"production": 2}}""")).EnsureSuccessStatusCode();
        var first = await SecondApprover.DecideOkAsync(own.Id(), "approve");
        Assert.Equal(("Open", 1, 2), (first.Status(), first.GetProperty("approvals").GetInt32(), first.GetProperty("requiredApprovals").GetInt32()));
        var again = await (await SecondApprover.DecideAsync(own.Id(), "approve")).ProblemAsync(409);
        Assert.Contains("one person's approval counts once", again.GetProperty("detail").GetString());
        var applied = await Admin.DecideOkAsync(own.Id(), "approve");
        Assert.Equal("Applied", applied.Status());
        Assert.Equal(["bob", "admin"], applied.GetProperty("votes").EnumerateArray().Select(v => v.GetProperty("actor").GetString()!.Split(' ')[0]));
        Assert.Equal(1, (await Contributor.StagesAsync("eyes")).Count(s => s.Value == "Production"));
    }

    [Fact]
    public async Task The_policy_sets_the_approval_counts_is_validated_and_its_changes_are_audited()
    {
        await App.UploadValidatedAsync(Contributor, "counted");
        var policy = await (await Contributor.GetAsync("/api/v1/models/counted/policy")).JsonAsync();
        Assert.True(policy.GetProperty("isDefault").GetBoolean());
        Assert.Equal((0, 1, 0), Counts(policy));

        await (await PutPolicyAsync("counted", """{"requiredApprovals": {"staging": 1}}""", Contributor)).ProblemAsync(403);
        var noEyes = await (await PutPolicyAsync("counted", """{"requiredApprovals": {"production": 0}}""", Admin)).ProblemAsync(422);
        Assert.Contains("someone other than the requester always approves it",
            noEyes.GetProperty("errors").GetProperty("requiredApprovals.production")[0].GetString());
        var nullRule = await (await PutPolicyAsync("counted", """{"metricRules": [null]}""", Approver)).ProblemAsync(422);
        Assert.Contains("A metric rule is an object", nullRule.GetProperty("errors").GetProperty("metricRules[0]")[0].GetString());
        var bad = await (await PutPolicyAsync("counted", """
            {"requiredApprovals": {"staging": -1, "production": 11},
             "metricRules": [{"dataset": "holdout", "min": 0.9}, {"metric": "auc", "rule": "better-than-last"}, {"metric": "f1"},
                             {"metric": "auc", "min": 0.9, "max": 0.5}, {"metric": "loss", "tolerance": -1}],
             "latency": {"percentile": "p90"}}
            """, Approver)).ProblemAsync(422);
        var errors = bad.GetProperty("errors").EnumerateObject().ToDictionary(e => e.Name, e => string.Join(" | ", e.Value.EnumerateArray().Select(m => m.GetString())));
        Assert.Contains("between 0 and 10", errors["requiredApprovals.staging"]);
        Assert.Contains("between 1 and 10", errors["requiredApprovals.production"]);
        Assert.Contains("names its metric", errors["metricRules[0].metric"]);
        Assert.Contains("Unknown rule 'better-than-last'", errors["metricRules[1].rule"]);
        Assert.Contains("says nothing", errors["metricRules[2].rule"]);
        Assert.Contains("no value could pass", errors["metricRules[3].max"]);
        Assert.Contains("A tolerance is a finite number, 0 or more.", errors["metricRules[4].tolerance"]);
        Assert.Contains("'p90' is not measured", errors["latency.percentile"]);
        Assert.Contains("maxRatio", errors["latency.maxRatio"]);
        Assert.True((await PolicyOfAsync("counted")).GetProperty("isDefault").GetBoolean());

        var set = await (await PutPolicyAsync("counted", """{"requiredApprovals": {"staging": 1, "production": 2, "archived": 1}}""", Approver)).JsonAsync();
        Assert.Equal((1, 2, 1), Counts(set));
        Assert.False(set.GetProperty("isDefault").GetBoolean());
        var audit = await App.DbAsync(db => db.AuditEvents.Where(e => e.Action == "policy.updated").Select(e => new { e.Actor, e.Target }).SingleAsync());
        Assert.Equal(("alice (key key)", "model:counted"), (audit.Actor, audit.Target));

        // Staging now needs one approval, from someone else.
        var request = await Contributor.RequestOkAsync("counted", 1, "Staging");
        Assert.Equal(("Open", 1), (request.Status(), request.GetProperty("requiredApprovals").GetInt32()));
        Assert.Equal("Applied", (await Approver.DecideOkAsync(request.Id(), "approve")).Status());

        // Relaxing the policy applies an open request at once (the worker looks again).
        var production = await Contributor.RequestOkAsync("counted", 1, "Production");
        Assert.Equal(2, production.GetProperty("requiredApprovals").GetInt32());
        Assert.Equal("Open", (await SecondApprover.DecideOkAsync(production.Id(), "approve")).Status());
        (await PutPolicyAsync("counted", """{"requiredApprovals": {"production": 1}}""", Approver)).EnsureSuccessStatusCode();
        await PollAsync(async () => await (await Contributor.GetAsync($"/api/v1/promotions/{production.Id()}")).JsonAsync(), r => r.Status() == "Applied");

        static (int, int, int) Counts(JsonElement view)
        {
            var counts = view.GetProperty("policy").GetProperty("requiredApprovals");
            return (counts.GetProperty("staging").GetInt32(), counts.GetProperty("production").GetInt32(), counts.GetProperty("archived").GetInt32());
        }
    }

    private async Task<JsonElement> PolicyOfAsync(string model) => await (await Admin.GetAsync($"/api/v1/models/{model}/policy")).JsonAsync();

    /// <summary>v1 in production with auc 0.90 on holdout and p95 10 ms, under this policy.</summary>
    private async Task ProductionBaselineAsync(string model, string policy)
    {
        await App.UploadValidatedAsync(Contributor, model, metadata: """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.90}]}""", p95Ms: 10);
        (await PutPolicyAsync(model, policy)).EnsureSuccessStatusCode();
        await Contributor.RequestOkAsync(model, 1, "Staging");
        var request = await Contributor.RequestOkAsync(model, 1, "Production");
        if (request.Status() == "Open") request = await Admin.DecideOkAsync(request.Id(), "approve");
        Assert.Equal("Applied", request.Status());
    }

    [Fact]
    public async Task Metric_rules_compare_with_production_within_the_tolerance_and_absolute_thresholds()
    {
        await ProductionBaselineAsync("scored", """
            {"requiredApprovals": {"production": 1},
             "metricRules": [{"metric": "auc", "dataset": "holdout", "rule": "not-worse-than-production", "tolerance": 0.005},
                             {"metric": "auc", "dataset": "holdout", "min": 0.85}]}
            """);

        async Task<JsonElement> CandidateAsync(double? auc)
        {
            var metadata = auc is { } a ? $$"""{"metrics": [{"key": "auc", "dataset": "holdout", "value": {{a.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}]}""" : null;
            var v = await App.UploadValidatedAsync(Contributor, "scored", metadata: metadata);
            await Contributor.RequestOkAsync("scored", v, "Staging");
            return await (await Contributor.GetAsync($"/api/v1/models/scored/versions/{v}/promotions/preview?targetStage=Production")).JsonAsync();
        }

        var within = await CandidateAsync(0.896); // 0.004 worse: inside the tolerance
        var relative = within.Gate("metric auc on holdout not worse");
        Assert.Equal("Passed", relative.GetProperty("status").GetString());
        Assert.Equal((0.896, 0.90, 0.895), (relative.GetProperty("candidate").GetDouble(), relative.GetProperty("baseline").GetDouble(),
            Math.Round(relative.GetProperty("threshold").GetDouble(), 6)));
        Assert.True(within.GetProperty("gatesPassed").GetBoolean());
        Assert.Equal(1, within.GetProperty("baselineVersion").GetInt32());

        var worse = await CandidateAsync(0.89);
        var failed = worse.Gate("metric auc on holdout not worse");
        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        Assert.Equal("auc on holdout is 0.89 against production v1's 0.9 (Δ −0.01; higher is better, tolerance 0.005): worse than the allowed 0.895.",
            failed.GetProperty("message").GetString());
        Assert.False(worse.GetProperty("gatesPassed").GetBoolean());

        var low = await CandidateAsync(0.80);
        Assert.Equal("auc on holdout is 0.8, below the minimum 0.85.", low.Gate("metric auc on holdout ≥ 0.85").GetProperty("message").GetString());

        var missing = await CandidateAsync(null);
        var unmeasured = missing.GetProperty("gates").EnumerateArray().Where(g => g.GetProperty("gate").GetString() == "metric auc on holdout").ToList();
        Assert.Equal(2, unmeasured.Count); // one per rule
        Assert.All(unmeasured, g => Assert.Equal("v5 has no 'auc on holdout' metric; log it on the version so the rule can be checked.",
            g.GetProperty("message").GetString()));

        // A request that failed its gates stays open, also once approved; logging the missing metric makes it ready, and the registry applies it.
        var request = await Contributor.RequestOkAsync("scored", 5, "Production");
        Assert.Equal(("Open", false), (request.Status(), request.GetProperty("gatesPassed").GetBoolean()));
        var approved = await Approver.DecideOkAsync(request.Id(), "approve");
        Assert.Equal(("Open", 1, false), (approved.Status(), approved.GetProperty("approvals").GetInt32(), approved.GetProperty("gatesPassed").GetBoolean()));
        (await Contributor.PostAsync("/api/v1/models/scored/versions/5/metrics", Json("""{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.95}]}"""))).EnsureSuccessStatusCode();
        await PollAsync(async () => await (await Contributor.GetAsync($"/api/v1/promotions/{request.Id()}")).JsonAsync(), r => r.Status() == "Applied");
        var stages = await Contributor.StagesAsync("scored");
        Assert.Equal(("Archived", "Production"), (stages[1], stages[5]));
    }

    [Fact]
    public async Task The_signature_gate_refuses_breaking_changes_and_the_diff_lists_every_difference_with_its_verdict()
    {
        await ProductionBaselineAsync("shaped", """{"requiredApprovals": {"production": 1}}""");
        var breaking = await App.UploadValidatedAsync(Contributor, "shaped", IdentityOf("x", "y", ElementTypes.Float, "batch", 4));
        var compatible = await App.UploadValidatedAsync(Contributor, "shaped", IdentityOf("x", "y", ElementTypes.Float, "batch", "features"));
        async Task<List<string>> DiffAsync(byte[] model)
        {
            var v = await App.UploadValidatedAsync(Contributor, "shaped", model);
            var diff = await (await Contributor.GetAsync($"/api/v1/models/shaped/versions/{v}/signature-diff")).JsonAsync();
            Assert.Equal((1, false), (diff.GetProperty("against").GetInt32(), diff.GetProperty("compatible").GetBoolean()));
            return diff.GetProperty("differences").EnumerateArray()
                .Select(Verdict).ToList();
        }
        Assert.Equal(["Breaking input renamed x"], await DiffAsync(IdentityOf("input", "y", ElementTypes.Float, "batch", 3)));
        Assert.Equal(["Breaking type changed x", "Breaking type changed y"], await DiffAsync(IdentityOf("x", "y", ElementTypes.Double, "batch", 3)));
        Assert.Equal(["Breaking rank changed x", "Breaking rank changed y"], await DiffAsync(IdentityOf("x", "y", ElementTypes.Float, "batch", 3, 1)));
        Assert.Equal(["Breaking dimension changed x", "Breaking dimension changed y"],
            (await (await Contributor.GetAsync($"/api/v1/models/shaped/versions/{breaking}/signature-diff")).JsonAsync())
                .GetProperty("differences").EnumerateArray().Select(Verdict));

        var safe = await (await Contributor.GetAsync($"/api/v1/models/shaped/versions/{compatible}/signature-diff?against=1")).JsonAsync();
        Assert.True(safe.GetProperty("compatible").GetBoolean());
        Assert.Equal(["Compatible dimension now symbolic x", "Compatible dimension now symbolic y"], safe.GetProperty("differences").EnumerateArray()
            .Select(Verdict));
        await (await Contributor.GetAsync("/api/v1/models/shaped/versions/2/signature-diff?against=99")).ProblemAsync(404);

        await Contributor.RequestOkAsync("shaped", breaking, "Staging");
        var refused = await Contributor.RequestOkAsync("shaped", breaking, "Production");
        Assert.Equal("Open", refused.Status());
        var gate = refused.Gate("signature");
        Assert.Equal("Failed", gate.GetProperty("status").GetString());
        Assert.StartsWith("2 breaking differences from production v1: Input 'x' dimension 1 was 3, is now 4", gate.GetProperty("message").GetString());

        await Contributor.RequestOkAsync("shaped", compatible, "Staging");
        var accepted = await Approver.DecideOkAsync((await Contributor.RequestOkAsync("shaped", compatible, "Production")).Id(), "approve");
        Assert.Equal("Applied", accepted.Status());
        Assert.Equal("Passed", accepted.Gate("signature").GetProperty("status").GetString());

        // Without the rule, the gate does not apply.
        (await PutPolicyAsync("shaped", """{"requiredApprovals": {"production": 1}, "requireCompatibleSignature": false}""")).EnsureSuccessStatusCode();
        var preview = await (await Contributor.GetAsync($"/api/v1/models/shaped/versions/{breaking}/promotions/preview?targetStage=Production")).JsonAsync();
        Assert.Equal("NotApplicable", preview.Gate("signature").GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_latency_rule_compares_the_measured_p95_with_production()
    {
        await ProductionBaselineAsync("quick", """{"requiredApprovals": {"production": 1}, "latency": {"percentile": "p95", "maxRatio": 1.2, "maxMs": 50}}""");
        var slower = await App.UploadValidatedAsync(Contributor, "quick", p95Ms: 12.5);
        var faster = await App.UploadValidatedAsync(Contributor, "quick", p95Ms: 11.5);
        await Contributor.RequestOkAsync("quick", slower, "Staging");
        await Contributor.RequestOkAsync("quick", faster, "Staging");

        var refused = await Contributor.RequestOkAsync("quick", slower, "Production");
        var ratio = refused.Gate("latency p95 ≤ 1.2 × production");
        Assert.Equal(("Failed", 12.5, 10.0, 12.0), (ratio.GetProperty("status").GetString(), ratio.GetProperty("candidate").GetDouble(),
            ratio.GetProperty("baseline").GetDouble(), ratio.GetProperty("threshold").GetDouble()));
        Assert.Equal("p95 latency is 12.5 ms against production v1's 10 ms (× 1.25; allowed × 1.2 = 12 ms).", ratio.GetProperty("message").GetString());
        Assert.Equal("Passed", refused.Gate("latency p95 ≤ 50 ms").GetProperty("status").GetString());

        var accepted = await Approver.DecideOkAsync((await Contributor.RequestOkAsync("quick", faster, "Production")).Id(), "approve");
        Assert.Equal("Applied", accepted.Status());
        Assert.Equal("Passed", accepted.Gate("latency p95 ≤ 1.2 × production").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_stale_request_is_evaluated_again_against_the_new_production_before_it_is_applied()
    {
        await ProductionBaselineAsync("stale", """
            {"requiredApprovals": {"production": 1},
             "metricRules": [{"metric": "auc", "dataset": "holdout", "rule": "not-worse-than-production"}]}
            """);
        var good = await App.UploadValidatedAsync(Contributor, "stale", metadata: """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.92}]}""");
        var better = await App.UploadValidatedAsync(Contributor, "stale", metadata: """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.95}]}""");
        await Contributor.RequestOkAsync("stale", good, "Staging");
        await Contributor.RequestOkAsync("stale", better, "Staging");
        var old = await Contributor.RequestOkAsync("stale", good, "Production");
        Assert.Equal((true, 1), (old.GetProperty("gatesPassed").GetBoolean(), old.GetProperty("baselineVersion").GetInt32()));

        var newer = await Contributor.RequestOkAsync("stale", better, "Production");
        Assert.Equal("Applied", (await Approver.DecideOkAsync(newer.Id(), "approve")).Status());

        // Approving the old request now judges it against v3, which it no longer beats: recorded, not applied.
        var approved = await SecondApprover.DecideOkAsync(old.Id(), "approve");
        Assert.Equal(("Open", 1, false, 3), (approved.Status(), approved.GetProperty("approvals").GetInt32(),
            approved.GetProperty("gatesPassed").GetBoolean(), approved.GetProperty("baselineVersion").GetInt32()));
        Assert.Equal("Production changed from v1 to v3 after this request was evaluated; its gates were evaluated again against v3.",
            approved.GetProperty("note").GetString());
        Assert.Contains("against production v3's 0.95", approved.Gate("metric auc on holdout").GetProperty("message").GetString());
        var stages = await Contributor.StagesAsync("stale");
        Assert.Equal(("Archived", "Staging", "Production"), (stages[1], stages[good], stages[better]));
    }

    [Fact]
    public async Task Reject_needs_a_reason_and_closes_cancel_is_for_the_requester_or_an_admin()
    {
        foreach (var _ in Enumerable.Range(0, 3)) await App.UploadValidatedAsync(Contributor, "closing");
        foreach (var v in new[] { 1, 2, 3 }) await Contributor.RequestOkAsync("closing", v, "Staging");
        var rejected = await Contributor.RequestOkAsync("closing", 1, "Production", "please");
        var withdrawn = await Contributor.RequestOkAsync("closing", 2, "Production");
        var byAdmin = await Contributor.RequestOkAsync("closing", 3, "Production");

        var noReason = await (await Approver.DecideAsync(rejected.Id(), "reject")).ProblemAsync(422);
        Assert.Contains("send a comment", noReason.GetProperty("detail").GetString());
        var closed = await Approver.DecideOkAsync(rejected.Id(), "reject", "auc regressed on the holdout set");
        Assert.Equal(("Rejected", "auc regressed on the holdout set"), (closed.Status(), closed.GetProperty("closeComment").GetString()));
        var late = await (await SecondApprover.DecideAsync(rejected.Id(), "approve")).ProblemAsync(409);
        Assert.Contains("is already Rejected", late.GetProperty("detail").GetString());

        var other = await App.ClientAsAsync(Role.Contributor, user: "dave");
        var notYours = await (await other.DecideAsync(withdrawn.Id(), "cancel")).ProblemAsync(403);
        Assert.Contains("Only the requester (carol", notYours.GetProperty("detail").GetString());
        await (await Approver.DecideAsync(withdrawn.Id(), "cancel")).ProblemAsync(403);
        Assert.Equal("Cancelled", (await Contributor.DecideOkAsync(withdrawn.Id(), "cancel")).Status());
        await (await Contributor.DecideAsync(withdrawn.Id(), "cancel")).ProblemAsync(409);
        Assert.Equal("Cancelled", (await Admin.DecideOkAsync(byAdmin.Id(), "cancel", "superseded")).Status());
        var own = await (await Contributor.DecideAsync(byAdmin.Id(), "reject", "x")).ProblemAsync(403); // a contributor cannot reject
        Assert.Contains("needs the Approver role", own.GetProperty("detail").GetString());
        await (await Approver.DecideAsync(999, "approve")).ProblemAsync(404);

        // A new request after a closed one; nothing moved.
        Assert.All((await Contributor.StagesAsync("closing")).Values, s => Assert.Equal("Staging", s));
        Assert.Equal("Open", (await Contributor.RequestOkAsync("closing", 1, "Production")).Status());
        var duplicate = await (await Contributor.RequestPromotionAsync("closing", 1, "Archived")).ProblemAsync(409);
        Assert.Contains("already has an open promotion request", duplicate.GetProperty("detail").GetString());

        var list = await (await Contributor.GetAsync("/api/v1/promotions?model=closing")).JsonAsync();
        Assert.Equal(7, list.GetProperty("total").GetInt32());
        var open = await (await Contributor.GetAsync("/api/v1/promotions?status=open&model=closing")).JsonAsync();
        Assert.Equal(1, open.GetProperty("total").GetInt32());
        await (await Contributor.GetAsync("/api/v1/promotions?status=done")).ProblemAsync(400);
        await (await Contributor.GetAsync("/api/v1/promotions?model=nope")).ProblemAsync(404);
    }

    [Fact]
    public async Task The_evidence_puts_the_candidate_beside_production_with_metric_deltas_and_the_signature_diff()
    {
        await ProductionBaselineAsync("evident", """{"requiredApprovals": {"production": 1}}""");
        var v2 = await App.UploadValidatedAsync(Contributor, "evident", IdentityOf("x", "y", ElementTypes.Float, "batch", "n"),
            """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.93}, {"key": "f1", "value": 0.7}]}""", p95Ms: 8);
        await Contributor.RequestOkAsync("evident", v2, "Staging");
        var request = await Contributor.RequestOkAsync("evident", v2, "Production");

        var evidence = await (await Approver.GetAsync($"/api/v1/promotions/{request.Id()}/evidence")).JsonAsync();
        Assert.Equal((2, 1), (evidence.GetProperty("candidate").GetProperty("version").GetInt32(), evidence.GetProperty("production").GetProperty("version").GetInt32()));
        Assert.Equal("Passed", evidence.GetProperty("candidate").GetProperty("validation").GetString());
        var metrics = evidence.GetProperty("metrics").EnumerateArray().ToDictionary(
            m => $"{m.GetProperty("key").GetString()}/{(m.GetProperty("dataset").ValueKind == JsonValueKind.Null ? "" : m.GetProperty("dataset").GetString())}");
        Assert.Equal(0.03, Math.Round(metrics["auc/holdout"].GetProperty("delta").GetDouble(), 6));
        Assert.Equal(JsonValueKind.Null, metrics["f1/"].GetProperty("production").ValueKind);
        Assert.Equal((-2.0, true), (metrics["latency_p95_ms/"].GetProperty("delta").GetDouble(), metrics["latency_p95_ms/"].GetProperty("system").GetBoolean()));
        Assert.True(evidence.GetProperty("signature").GetProperty("compatible").GetBoolean());
        Assert.True(evidence.GetProperty("gatesPassNow").GetBoolean());
        Assert.Equal(1, evidence.GetProperty("requiredApprovalsNow").GetInt32());
        await (await Approver.GetAsync("/api/v1/promotions/999/evidence")).ProblemAsync(404);
    }

    [Fact]
    public async Task Replacing_production_closes_a_request_left_open_on_the_version_it_replaces()
    {
        await ProductionBaselineAsync("replaced", """{"requiredApprovals": {"production": 1, "archived": 0}}""");
        var retire = await Contributor.RequestOkAsync("replaced", 1, "Archived"); // waits for an approval: taking production down needs production's count
        Assert.Equal("Open", retire.Status());
        var v2 = await App.UploadValidatedAsync(Contributor, "replaced");
        await Contributor.RequestOkAsync("replaced", v2, "Staging");
        var replacing = await Approver.DecideOkAsync((await Contributor.RequestOkAsync("replaced", v2, "Production")).Id(), "approve");
        Assert.Equal("Applied", replacing.Status());

        var closed = await (await Contributor.GetAsync($"/api/v1/promotions/{retire.Id()}")).JsonAsync();
        Assert.Equal(("Cancelled", "registry"), (closed.Status(), closed.GetProperty("closedBy").GetString()));
        Assert.Equal($"v1 left production when promotion #{replacing.Id()} put v2 there.", closed.GetProperty("closeComment").GetString());
        Assert.Equal(1, (await Contributor.StagesAsync("replaced")).Count(s => s.Value == "Production"));
    }

    [Fact]
    public async Task A_vote_counts_only_while_its_voter_is_an_approver_and_a_person_decides_once()
    {
        await ProductionBaselineAsync("voted", """{"requiredApprovals": {"production": 1}, "metricRules": [{"metric": "auc", "dataset": "holdout", "min": 0.5}]}""");
        var v2 = await App.UploadValidatedAsync(Contributor, "voted", metadata: """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.4}]}""");
        await Contributor.RequestOkAsync("voted", v2, "Staging");
        var request = await Contributor.RequestOkAsync("voted", v2, "Production");
        Assert.Equal(("Open", 1), (SecondApproverDecision(await SecondApprover.DecideOkAsync(request.Id(), "approve"))));

        // bob changes his mind: not by rejecting what he approved.
        var twice = await (await SecondApprover.DecideAsync(request.Id(), "reject", "on reflection, no")).ProblemAsync(409);
        Assert.Contains("You already approved promotion", twice.GetProperty("detail").GetString());

        // bob is demoted; when the gates pass, his vote no longer carries the request.
        (await Admin.PatchAsync("/api/v1/users/bob", Json("""{"role": "Contributor"}"""))).EnsureSuccessStatusCode();
        (await Contributor.PostAsync($"/api/v1/models/voted/versions/{v2}/metrics", Json("""{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.8}]}"""))).EnsureSuccessStatusCode();
        await using (var scope = App.Services.CreateAsyncScope()) // a sweep of the worker's, now rather than when it wakes
            Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<Registry.Core.Promotions.PromotionService>().ApplyReadyAsync(CancellationToken.None));
        Assert.Equal("Open", (await (await Contributor.GetAsync($"/api/v1/promotions/{request.Id()}")).JsonAsync()).Status());
        Assert.Equal("Applied", (await Approver.DecideOkAsync(request.Id(), "approve")).Status());

        static (string, int) SecondApproverDecision(JsonElement r) => (r.Status(), r.GetProperty("approvals").GetInt32());
    }

    [Fact]
    public async Task Stages_and_statuses_are_single_names_never_numbers_or_combinations()
    {
        await App.UploadValidatedAsync(Contributor, "named");
        foreach (var target in new[] { "Staging, Production", "Staging|Archived", "1", "-1" })
            await (await Contributor.RequestPromotionAsync("named", 1, target)).ProblemAsync(422);
        Assert.Equal("Applied", (await Contributor.RequestOkAsync("named", 1, " staging ")).Status());
        foreach (var status in new[] { "Applied,Rejected", "0", "open|applied" })
            await (await Contributor.GetAsync($"/api/v1/promotions?status={Uri.EscapeDataString(status)}")).ProblemAsync(400);
        Assert.Equal(1, (await (await Contributor.GetAsync("/api/v1/promotions?status=APPLIED")).JsonAsync()).GetProperty("total").GetInt32());
    }

    /// <summary>A signature difference as "Breaking rank changed x".</summary>
    private static string Verdict(JsonElement d) =>
        $"{d.GetProperty("verdict").GetString()} {d.GetProperty("kind").GetString()} {d.GetProperty("name").GetString()}";

    /// <summary>y = x with these names, element type and dims.</summary>
    internal static byte[] IdentityOf(string input, string output, int elementType, params object?[] dims)
    {
        var graph = new Registry.Core.Onnx.Proto.GraphHeader { Name = "identity" };
        graph.Input.Add(OnnxModels.Tensor(input, elementType, dims));
        graph.Output.Add(OnnxModels.Tensor(output, elementType, dims));
        graph.Node.Add(OnnxModels.Node("Identity", [input], [output]));
        var model = OnnxModels.Model(graph);
        model.ProducerVersion = Guid.NewGuid().ToString("N");
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    internal static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        T last;
        while (!done(last = await read()))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not reached within {seconds} s; last seen: {last}");
            await Task.Delay(100);
        }
        return last;
    }
}
