using System.Globalization;
using System.Text.Json;
using Registry.Core.Onnx;
using Registry.Tests.Support;
using Registry.Tests.Web.Promotions;

namespace Registry.Tests.Web.Compare;

/// <summary>Versions side by side on a known set: best per row by direction, deltas, system metrics, signatures, CSV, trends.</summary>
public class CompareApiTests() : AppTests(new RegistryApp(new Dictionary<string, string?> { ["Registry:Metrics:LowerIsBetter:0"] = "loss" }))
{
    private static string Metrics(params (string Key, string? Dataset, double Value)[] metrics) =>
        JsonSerializer.Serialize(new
        {
            description = "=HYPERLINK(\"http://evil.example\")",
            metrics = metrics.Select(m => new { key = m.Key, dataset = m.Dataset, value = m.Value }),
            tags = new Dictionary<string, string> { ["team"] = "risk" },
        });

    protected override async Task ArrangeAsync()
    {
        await App.UploadValidatedAsync(Admin, "cmp", metadata: Metrics(("auc", "holdout", 0.90), ("loss", null, 0.30)), p95Ms: 4);
        await App.UploadValidatedAsync(Admin, "cmp", metadata: Metrics(("auc", "holdout", 0.93), ("loss", null, 0.25)), p95Ms: 6);
        await App.UploadValidatedAsync(Admin, "cmp", metadata: Metrics(("auc", "holdout", 0.91), ("auc", "test", 0.88), ("loss", null, 0.35)), p95Ms: 3);
        await App.UploadValidatedAsync(Admin, "other", PromotionApiTests.IdentityOf("x", "y", ElementTypes.Float, "batch", 4),
            Metrics(("auc", "holdout", 0.95)), p95Ms: 5);
    }

    private static JsonElement Row(JsonElement rows, string key, string? dataset = null) =>
        rows.EnumerateArray().Single(r => r.GetProperty("key").GetString() == key &&
            (r.GetProperty("dataset").ValueKind == JsonValueKind.Null ? null : r.GetProperty("dataset").GetString()) == dataset);

    private static double?[] Values(JsonElement row, string property = "values") =>
        row.GetProperty(property).EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : Math.Round(v.GetDouble(), 6)).ToArray();

    private static int[] Best(JsonElement row) => row.GetProperty("best").EnumerateArray().Select(v => v.GetInt32()).ToArray();

    [Fact]
    public async Task Metrics_are_lined_up_with_the_best_by_direction_and_deltas_against_the_baseline()
    {
        var view = await (await Admin.GetAsync("/api/v1/compare?versions=cmp:1,cmp:2,cmp:3,other:1&baseline=cmp:2")).JsonAsync();
        Assert.Equal(["cmp:1", "cmp:2", "cmp:3", "other:1"], view.GetProperty("versions").EnumerateArray().Select(v => $"{v.GetProperty("model").GetString()}:{v.GetProperty("version").GetInt32()}"));
        Assert.Equal(1, view.GetProperty("baseline").GetInt32());

        var metrics = view.GetProperty("metrics");
        Assert.Equal(["auc/holdout", "auc/test", "loss/"], metrics.EnumerateArray().Select(r =>
            $"{r.GetProperty("key").GetString()}/{(r.GetProperty("dataset").ValueKind == JsonValueKind.Null ? "" : r.GetProperty("dataset").GetString())}"));
        var auc = Row(metrics, "auc", "holdout");
        Assert.Equal("HigherIsBetter", auc.GetProperty("direction").GetString());
        Assert.Equal([0.90, 0.93, 0.91, 0.95], Values(auc));
        Assert.Equal([3], Best(auc));
        Assert.Equal([-0.03, 0.0, -0.02, 0.02], Values(auc, "deltas"));
        var test = Row(metrics, "auc", "test");
        Assert.Equal([null, null, 0.88, null], Values(test));
        Assert.Equal([null, null, null, null], Values(test, "deltas")); // the baseline has no value
        var loss = Row(metrics, "loss"); // configured lower-is-better
        Assert.Equal("LowerIsBetter", loss.GetProperty("direction").GetString());
        Assert.Equal([1], Best(loss));
        Assert.Equal([0.30, 0.25, 0.35, null], Values(loss));

        var system = view.GetProperty("system");
        var p95 = Row(system, "latency_p95_ms");
        Assert.Equal("LowerIsBetter", p95.GetProperty("direction").GetString());
        Assert.Equal([2], Best(p95));
        Assert.Equal([4.0, 6.0, 3.0, 5.0], Values(p95));
        var size = Row(system, "size_bytes");
        Assert.All(Values(size), v => Assert.True(v > 0));
        Assert.Equal([0.0, 0.0, 0.0, 0.0], Values(Row(system, "parameter_count")));

        // Signatures against the baseline: the same model's versions match, the other model's input is fixed at 4.
        var signatures = view.GetProperty("signatures").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, signatures[1].ValueKind);
        Assert.True(signatures[0].GetProperty("compatible").GetBoolean());
        Assert.Empty(signatures[0].GetProperty("differences").EnumerateArray());
        Assert.False(signatures[3].GetProperty("compatible").GetBoolean());
        Assert.Contains("dimension 1 was 3, is now 4", signatures[3].GetProperty("differences")[0].GetProperty("message").GetString());

        var first = view.GetProperty("versions")[0];
        Assert.Equal(("None", "Passed"), (first.GetProperty("stage").GetString(), first.GetProperty("validation").GetString()));
        Assert.Equal("risk", first.GetProperty("tags").GetProperty("team").GetString());
    }

    [Fact]
    public async Task A_promotion_rule_that_does_not_say_which_way_is_better_follows_the_metric_keys_direction()
    {
        (await Admin.PutAsync("/api/v1/models/cmp/policy", UploadRequests.Json("""
            {"requiredApprovals": {"production": 1}, "metricRules": [{"metric": "loss", "rule": "not-worse-than-production"}]}
            """))).EnsureSuccessStatusCode();
        var approver = await App.ClientAsAsync(Registry.Core.Access.Role.Approver);
        foreach (var v in new[] { 1, 2, 3 }) await Admin.RequestOkAsync("cmp", v, "Staging");
        await approver.DecideOkAsync((await Admin.RequestOkAsync("cmp", 1, "Production")).Id(), "approve");

        async Task<JsonElement> GateAsync(int version) =>
            (await (await Admin.GetAsync($"/api/v1/models/cmp/versions/{version}/promotions/preview?targetStage=Production")).JsonAsync())
                .Gate("metric loss not worse than production");
        var lower = await GateAsync(2); // 0.25 against 0.30: better, since lower is better for loss
        Assert.Equal("Passed", lower.GetProperty("status").GetString());
        Assert.Contains("lower is better", lower.GetProperty("message").GetString());
        Assert.Equal("Failed", (await GateAsync(3)).GetProperty("status").GetString()); // 0.35
    }

    [Fact]
    public async Task Bad_selections_are_refused_with_what_to_send()
    {
        async Task<string> RefusedAsync(string query, int status) =>
            (await (await Admin.GetAsync("/api/v1/compare?" + query)).ProblemAsync(status)).GetProperty("detail").GetString()!;

        Assert.Contains("got 1", await RefusedAsync("versions=cmp:1", 400));
        Assert.Contains("got 1", await RefusedAsync("versions=cmp:1,CMP:1", 400)); // the same version twice is one
        Assert.Contains("got 0", await RefusedAsync("", 400));
        Assert.Contains("got 11", await RefusedAsync("versions=" + string.Join(",", Enumerable.Range(1, 11).Select(i => $"m{i}:1")), 400));
        Assert.Contains("'cmp-1' is not a version reference", await RefusedAsync("versions=cmp-1,cmp:2", 400));
        Assert.Contains("'cmp:x'", await RefusedAsync("versions=cmp:x,cmp:2", 400));
        Assert.Contains("Model 'cmp' has no version 9", await RefusedAsync("versions=cmp:1,cmp:9", 404));
        Assert.Contains("nope", await RefusedAsync("versions=cmp:1,nope:1", 404));
        Assert.Contains("not among the compared versions", await RefusedAsync("versions=cmp:1,cmp:2&baseline=cmp:3", 400));
        Assert.Contains("not a version reference", await RefusedAsync("versions=cmp:1,cmp:2&baseline=three", 400));
        await (await Admin.GetAsync("/api/v1/compare/csv?versions=cmp:1")).ProblemAsync(400);
    }

    [Fact]
    public async Task The_csv_export_has_a_column_per_version_and_cannot_run_formulas()
    {
        var response = await Admin.GetAsync("/api/v1/compare/csv?versions=cmp:1,cmp:3");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("compare.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        var lines = (await response.Content.ReadAsStringAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("section,name,dataset,direction,cmp:1,cmp:3", lines[0]);
        Assert.Contains("version,stage,,,None,None", lines);
        Assert.Contains("metric,auc,holdout,higher,0.9,0.91", lines);
        Assert.Contains("metric,auc,test,higher,,0.88", lines);
        Assert.Contains("metric,loss,,lower,0.3,0.35", lines);
        Assert.Contains("system,latency_p95_ms,,lower,4,3", lines);
        Assert.Contains("version,tags,,,team=risk,team=risk", lines);
        // A description starting with '=' would be a formula in a spreadsheet: it is written as text.
        Assert.Contains("version,description,,,\"'=HYPERLINK(\"\"http://evil.example\"\")\",\"'=HYPERLINK(\"\"http://evil.example\"\")\"", lines);
        Assert.Contains("signature,differences from cmp:1,,,baseline,same", lines);
    }

    [Fact]
    public async Task A_metric_across_a_models_versions_has_one_line_per_dataset()
    {
        var series = await (await Admin.GetAsync("/api/v1/models/cmp/metrics/auc/series")).JsonAsync();
        Assert.Equal([1, 2, 3], series.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));
        var lines = series.GetProperty("lines").EnumerateArray().ToDictionary(l => l.GetProperty("dataset").GetString()!, l => Values(l));
        Assert.Equal([0.90, 0.93, 0.91], lines["holdout"]);
        Assert.Equal([null, null, 0.88], lines["test"]);
        var latency = await (await Admin.GetAsync("/api/v1/models/cmp/metrics/latency_p95_ms/series")).JsonAsync();
        Assert.Equal("LowerIsBetter", latency.GetProperty("direction").GetString());
        Assert.Equal([4.0, 6.0, 3.0], Values(latency.GetProperty("lines")[0]));
        var none = await (await Admin.GetAsync("/api/v1/models/cmp/metrics/f1/series")).JsonAsync();
        Assert.Empty(none.GetProperty("versions").EnumerateArray());
        await (await Admin.GetAsync("/api/v1/models/nope/metrics/auc/series")).ProblemAsync(404);
    }
}
