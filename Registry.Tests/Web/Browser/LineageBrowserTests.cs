using Microsoft.Playwright;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class LineageBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_version_page_draws_the_lineage_graph_and_a_node_leads_to_the_parent()
    {
        var client = browser.App.CreateClient();
        (await client.UploadAsync("lin-teacher", OnnxModels.Identity("lt1"),
            """{"lineage": {"datasets": [{"name": "web <b>\"crawl\"</b>]; click", "digest": "sha256:ccc"}], "source": {"commit": "abc123"}}}""")).EnsureSuccessStatusCode();
        (await client.UploadAsync("lin-student", OnnxModels.Identity("ls1"),
            """{"lineage": {"parents": [{"model": "lin-teacher", "version": 1, "relation": "distilled-from"}]}}""")).EnsureSuccessStatusCode();
        (await client.UploadAsync("lin-student", OnnxModels.Identity("ls2"),
            """{"lineage": {"parents": [{"model": "lin-student", "version": 1, "relation": "fine-tuned-from"}]}}""")).EnsureSuccessStatusCode();

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync("/models/lin-student/versions/1");
        var svg = page.Locator("[data-testid=lineage-graph] svg");
        await svg.WaitForAsync(new() { Timeout = 30_000 });
        foreach (var label in new[] { "lin-student v1", "lin-teacher v1", "lin-student v2", "distilled-from", "fine-tuned-from", "commit abc123" })
            await Assertions.Expect(svg).ToContainTextAsync(label);
        // The dataset's name is shown as text, markup and all, and adds no element to the drawing.
        await Assertions.Expect(svg).ToContainTextAsync("web <b>\"crawl\"</b>]; click");
        await Assertions.Expect(svg.Locator("b")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=lineage-relations]")).ToContainTextAsync("lin-student v1 distilled-from lin-teacher v1");
        await BrowserFixture.ScreenshotAsync(page, "lineage-graph");

        await svg.Locator("a", new() { HasText = "lin-teacher v1" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/models/lin-teacher/versions/1", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("[data-testid=version-title]")).ToHaveTextAsync("lin-teacher v1");
        await Assertions.Expect(page.Locator("[data-testid=lineage-graph] svg")).ToContainTextAsync("lin-student v1", new() { Timeout = 30_000 });
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_contributor_adds_a_dataset_from_the_version_page()
    {
        (await browser.App.CreateClient().UploadAsync("lin-added", OnnxModels.Identity("la1"))).EnsureSuccessStatusCode();
        var (page, errors) = await browser.NewPageAsync();
        await BrowserFixture.GotoLiveAsync(page, "/models/lin-added/versions/1");
        await Assertions.Expect(page.Locator("[data-testid=lineage-graph-empty]")).ToBeVisibleAsync();

        await page.Locator("[data-testid=add-lineage]").GetByText("Add lineage").First.ClickAsync();
        await page.Locator("input[data-testid=parent-model]").FillAsync("lin-missing");
        await page.Locator("input[data-testid=parent-version]").FillAsync("1");
        await page.Locator("[data-testid=add-lineage-submit]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=add-lineage-error]")).ToContainTextAsync("There is no model named 'lin-missing'");

        await page.Locator("input[data-testid=parent-model]").FillAsync("");
        await page.Locator("input[data-testid=parent-version]").FillAsync("");
        await page.Locator("input[data-testid=dataset-name]").FillAsync("form-data");
        await page.Locator("input[data-testid=dataset-uri]").FillAsync("https://data.example/form");
        await page.Locator("[data-testid=add-lineage-submit]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=lineage-relations]")).ToContainTextAsync("form-data");
        await Assertions.Expect(page.Locator("[data-testid=lineage-graph] svg")).ToContainTextAsync("form-data", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=lineage]")).ToContainTextAsync("form-data");
        Assert.Empty(errors);
    }
}
