using System.Globalization;
using System.Text.Json;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Search;

/// <summary>Filters and sorting of GET /api/v1/models on a small known catalogue.</summary>
public class ModelSearchApiTests : AppTests
{
    private static string Auc(double value, string dataset = "holdout", string? tag = null) => JsonSerializer.Serialize(new
    {
        metrics = new[] { new { key = "auc", dataset, value } },
        tags = tag is null ? null : new Dictionary<string, string> { ["team"] = tag },
    });

    protected override async Task ArrangeAsync()
    {
        // alpha: v1 auc .95 (production), v2 auc .80 (latest). beta: v1 auc .90 (latest, staging).
        // gamma: v1 auc .85 on "test" only. delta: no metrics, archived version. epsilon: model without versions.
        var approver = await App.ClientAsAsync(Registry.Core.Access.Role.Approver);
        await App.UploadValidatedAsync(Admin, "alpha", metadata: Auc(0.95));
        await App.UploadValidatedAsync(Admin, "alpha", metadata: Auc(0.80));
        await Admin.RequestOkAsync("alpha", 1, "Staging");
        await approver.DecideOkAsync((await Admin.RequestOkAsync("alpha", 1, "Production")).Id(), "approve");
        await App.UploadValidatedAsync(Admin, "beta", metadata: Auc(0.90));
        await Admin.RequestOkAsync("beta", 1, "Staging");
        await App.UploadValidatedAsync(Admin, "gamma", metadata: Auc(0.85, "test"));
        await App.UploadValidatedAsync(Admin, "delta");
        await Admin.RequestOkAsync("delta", 1, "Staging");
        await Admin.RequestOkAsync("delta", 1, "Archived");
        (await Admin.PostAsync("/api/v1/models", Json("""{"name": "epsilon", "tags": {"team": "risk"}}"""))).EnsureSuccessStatusCode();
    }

    private async Task<(string[] Names, int Total, double?[] Metric)> ListAsync(string query)
    {
        var response = await Admin.GetAsync("/api/v1/models?" + query);
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var page = await response.JsonAsync();
        var items = page.GetProperty("items").EnumerateArray().ToList();
        return (items.Select(i => i.GetProperty("name").GetString()!).ToArray(), page.GetProperty("total").GetInt32(),
            items.Select(i => i.TryGetProperty("metric", out var m) && m.ValueKind == JsonValueKind.Number ? (double?)Math.Round(m.GetDouble(), 6) : null).ToArray());
    }

    [Fact]
    public async Task Stage_metric_and_version_filters_select_the_right_models()
    {
        Assert.Equal(["alpha"], (await ListAsync("stage=production")).Names);
        Assert.Equal(["beta"], (await ListAsync("stage=Staging")).Names); // alpha's v1 left staging for production
        Assert.Equal(["delta"], (await ListAsync("stage=archived")).Names);

        // Latest version by default: alpha's latest (v2) has .80.
        Assert.Equal(["beta"], (await ListAsync("metric=auc&dataset=holdout&min=0.9")).Names);
        Assert.Equal(["alpha"], (await ListAsync("metric=auc&dataset=holdout&min=0.9&on=production")).Names);
        Assert.Equal(["alpha", "beta"], (await ListAsync("metric=auc&dataset=holdout&max=0.9")).Names);
        Assert.Equal(["gamma"], (await ListAsync("metric=auc&dataset=test&min=0.5")).Names);
        Assert.Empty((await ListAsync("metric=auc&min=0.5")).Names); // no dataset: only metrics logged without one
        var tagged = await ListAsync("tag=team=risk");
        Assert.Equal(["epsilon"], tagged.Names);
        Assert.Equal(1, tagged.Total);
        Assert.Equal(["alpha"], (await ListAsync("q=ALP&stage=production&metric=auc&dataset=holdout&on=production&min=0.9")).Names);
    }

    [Fact]
    public async Task Sorting_by_metric_puts_models_without_it_last_and_paging_counts_every_match()
    {
        var ascending = await ListAsync("metric=auc&dataset=holdout&sort=metric");
        Assert.Equal(["alpha", "beta", "delta", "epsilon", "gamma"], ascending.Names);
        Assert.Equal([0.80, 0.90, null, null, null], ascending.Metric);
        var descending = await ListAsync("metric=auc&dataset=holdout&sort=metric&order=desc");
        Assert.Equal(["beta", "alpha", "delta", "epsilon", "gamma"], descending.Names);
        var production = await ListAsync("metric=auc&dataset=holdout&sort=metric&order=desc&on=production");
        Assert.Equal(["alpha", "beta", "delta", "epsilon", "gamma"], production.Names);
        Assert.Equal([0.95, null, null, null, null], production.Metric);

        Assert.Equal(["gamma", "epsilon", "delta", "beta", "alpha"], (await ListAsync("sort=name&order=desc")).Names);
        var updated = await ListAsync("sort=updated&order=desc");
        Assert.Equal("epsilon", updated.Names[0]); // registered last

        var page2 = await ListAsync("sort=name&pageSize=2&page=2");
        Assert.Equal(["delta", "epsilon"], page2.Names);
        Assert.Equal(5, page2.Total);
        var filtered = await ListAsync("metric=auc&dataset=holdout&min=0.5&pageSize=1&page=2");
        Assert.Equal(["beta"], filtered.Names);
        Assert.Equal(2, filtered.Total);
    }

    [Fact]
    public async Task Bad_parameters_are_refused_with_what_is_accepted()
    {
        async Task<string> RefusedAsync(string query) =>
            (await (await Admin.GetAsync("/api/v1/models?" + query)).ProblemAsync(400)).GetProperty("detail").GetString()!;
        Assert.Contains("Staging, Production or Archived", await RefusedAsync("stage=None"));
        Assert.Contains("Staging, Production or Archived", await RefusedAsync("stage=Staging,Production"));
        Assert.Contains("add metric=<key>", await RefusedAsync("min=0.9"));
        Assert.Contains("add metric=<key>", await RefusedAsync("sort=metric"));
        Assert.Contains("min='high' is not a number", await RefusedAsync("metric=auc&min=high"));
        Assert.Contains("is not a number", await RefusedAsync("metric=auc&max=NaN"));
        Assert.Contains("no model could match", await RefusedAsync("metric=auc&min=0.9&max=0.1"));
        Assert.Contains("latest or production", await RefusedAsync("metric=auc&on=staging"));
        Assert.Contains("name, updated or metric", await RefusedAsync("sort=size"));
        Assert.Contains("asc or desc", await RefusedAsync("order=up"));
        Assert.Contains("pageSize", await RefusedAsync("pageSize=1000"));
    }
}
