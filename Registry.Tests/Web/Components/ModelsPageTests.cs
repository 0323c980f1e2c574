using Bunit;
using Registry.Core.Catalog;
using Registry.Tests.Support;
using Registry.Web.Components.Pages.Models;

namespace Registry.Tests.Web.Components;

public class ModelsPageTests : ComponentTestBase
{
    [Fact]
    public async Task The_table_lists_models_with_latest_version_validation_and_stage_summary()
    {
        await CreateModelAsync("fraud-detector", "Scores card transactions");
        await UploadAsync("fraud-detector", OnnxModels.Identity("1"));
        await UploadAsync("fraud-detector", OnnxModels.Identity("2"));
        await UploadAsync("churn", OnnxModels.Linear());

        var page = Context.Render<ModelsPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr.mud-table-row").Count));
        var rows = page.FindAll("tbody tr.mud-table-row");
        Assert.Contains("churn", rows[0].TextContent);
        var fraud = rows[1];
        Assert.Contains("fraud-detector", fraud.TextContent);
        Assert.Contains("Scores card transactions", fraud.TextContent);
        Assert.Equal("/models/fraud-detector/versions/2", fraud.QuerySelectorAll("a")[1].GetAttribute("href"));
        Assert.Contains("Pending", fraud.QuerySelector("[data-testid=validation]")!.TextContent);
        Assert.Contains("none promoted", fraud.TextContent);
        Assert.Contains("1-2 of 2", page.Find(".mud-table-pagination").TextContent);
    }

    [Fact]
    public async Task Searching_narrows_the_table_on_the_server()
    {
        await UploadAsync("fraud-detector", OnnxModels.Identity());
        await UploadAsync("churn", OnnxModels.Identity());

        var page = Context.Render<ModelsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr.mud-table-row").Count));

        page.Find("input[data-testid=model-search]").Input("FRAUD");

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr.mud-table-row");
            Assert.Single(rows);
            Assert.Contains("fraud-detector", rows[0].TextContent);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void An_empty_registry_invites_the_first_upload()
    {
        var page = Context.Render<ModelsPage>();
        page.WaitForAssertion(() => Assert.Contains("No models yet.", page.Markup));
        Assert.NotNull(page.Find("a[href='/upload']"));
    }
}
