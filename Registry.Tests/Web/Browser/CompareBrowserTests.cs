using Microsoft.Playwright;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class CompareBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Versions_picked_in_the_table_open_side_by_side_with_the_best_highlighted_and_a_trend_chart()
    {
        var admin = browser.App.CreateClient();
        foreach (var (value, producer) in new[] { (0.81, "a"), (0.87, "b"), (0.84, "c") })
            (await admin.UploadAsync("side-by-side", OnnxModels.Identity($"compare-{producer}"),
                $$"""{"metrics": [{"key": "auc", "dataset": "holdout", "value": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}]}""")).EnsureSuccessStatusCode();

        var (page, errors) = await browser.NewPageAsync();
        await BrowserFixture.GotoLiveAsync(page, "/models/side-by-side");
        var rows = page.Locator("[data-testid=versions-table] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        var compare = page.Locator("[data-testid=compare-selected]");
        await Assertions.Expect(compare).ToContainTextAsync("Compare selected (0)");
        // Newest first: v3, v2, v1. Pick v1 and v2.
        await rows.Nth(2).Locator("input[type=checkbox]").CheckAsync();
        await rows.Nth(1).Locator("input[type=checkbox]").CheckAsync();
        await Assertions.Expect(compare).ToContainTextAsync("Compare selected (2)");
        await compare.ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/compare\\?versions=side-by-side%3A1%2Cside-by-side%3A2"));
        var auc = page.Locator("[data-testid=compare-metrics] tr[data-metric=auc]");
        await Assertions.Expect(auc.Locator("td[data-best=true]")).ToHaveAttributeAsync("data-version", "side-by-side:2");
        await Assertions.Expect(auc.Locator("td[data-version='side-by-side:2'] [data-testid=delta]")).ToHaveTextAsync("+0.06");

        // Add a third by reference; the page follows the address.
        await page.Locator("input[data-testid=add-version]").FillAsync("side-by-side:3");
        await page.Locator("input[data-testid=add-version]").PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=compared-version]")).ToHaveCountAsync(3);
        await Assertions.Expect(auc.Locator("td[data-version='side-by-side:3']")).ToContainTextAsync("0.84");

        // The trend across every version of the model, one line for the holdout dataset.
        var chart = page.Locator("[data-testid=trend-chart] svg");
        await Assertions.Expect(chart).ToBeVisibleAsync();
        Assert.True(await chart.Locator("path").CountAsync() > 0, "the chart draws a line");
        await Assertions.Expect(page.Locator("[data-testid=trend-chart]")).ToContainTextAsync("holdout");
        Assert.StartsWith("/api/v1/compare/csv?versions=", await page.Locator("[data-testid=export-csv]").GetAttributeAsync("href"));
        await BrowserFixture.ScreenshotAsync(page, "compare");
        Assert.Empty(errors);
    }
}
