using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Catalog;
using Registry.Tests.Support;
using Registry.Web.Components.Shared;

namespace Registry.Tests.Web.Cards;

public class MetadataPanelTests : ComponentTestBase
{
    private Task<Registry.Core.Result<ModelView>> ModelAsync() =>
        Context.Services.GetRequiredService<CatalogQueries>().GetModelAsync("scorer");

    [Fact]
    public async Task The_editor_previews_the_card_as_it_is_typed_sanitised_and_saves_it()
    {
        await CreateModelAsync("scorer", "scores things");
        var changed = 0;
        var panel = Context.Render<MetadataPanel>(p => p
            .Add(x => x.Model, "scorer").Add(x => x.Description, "scores things")
            .Add(x => x.Tags, new Dictionary<string, string> { ["team"] = "risk" })
            .Add(x => x.Changed, () => changed++));
        Assert.Equal("No card yet.", panel.Find("[data-testid=no-card]").TextContent);

        panel.Find("[data-testid=edit-metadata]").Click();
        Assert.Equal("team=risk", panel.Find("textarea[data-testid=edit-tags]").GetAttribute("value") ?? panel.Find("textarea[data-testid=edit-tags]").TextContent);

        panel.Find("textarea[data-testid=edit-card]").Input("# Title\n\n<script>window.pwned=1</script> [x](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |");
        panel.WaitForAssertion(() => Assert.Equal("Title", panel.Find("[data-testid=card-preview] h1").TextContent));
        var preview = panel.Find("[data-testid=card-preview]");
        Assert.Empty(preview.QuerySelectorAll("script"));
        Assert.Contains("<script>window.pwned=1</script>", preview.TextContent);
        Assert.Null(preview.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal(2, preview.QuerySelectorAll("td").Length);

        panel.Find("textarea[data-testid=edit-card]").Input("## Changed");
        panel.WaitForAssertion(() => Assert.Equal("Changed", panel.Find("[data-testid=card-preview] h2").TextContent));

        panel.Find("textarea[data-testid=edit-tags]").Change("team=growth\ntier = 1\n\npii");
        panel.Find("[data-testid=save-metadata]").Click();
        panel.WaitForAssertion(() => Assert.Equal(1, changed));
        var saved = (await ModelAsync()).Value;
        Assert.Equal("## Changed", saved.Card);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "1", ["pii"] = "" }, saved.Tags);
        Assert.Empty(panel.FindAll("[data-testid=metadata-editor]"));
    }

    [Fact]
    public async Task The_services_refusals_are_shown_and_nothing_is_saved()
    {
        await CreateModelAsync("scorer", "scores things");
        var panel = Context.Render<MetadataPanel>(p => p.Add(x => x.Model, "scorer").Add(x => x.Description, "scores things"));
        panel.Find("[data-testid=edit-metadata]").Click();

        panel.Find("textarea[data-testid=edit-tags]").Change("team=a\nteam=b");
        panel.Find("[data-testid=save-metadata]").Click();
        panel.WaitForAssertion(() => Assert.Contains("given twice", panel.Find("[data-testid=metadata-errors]").TextContent));

        panel.Find("textarea[data-testid=edit-tags]").Change("bad key!=1");
        panel.Find("[data-testid=save-metadata]").Click();
        panel.WaitForAssertion(() => Assert.Contains("tags.bad key!: A tag key may contain only", panel.Find("[data-testid=metadata-errors]").TextContent));
        Assert.NotEmpty(panel.FindAll("[data-testid=metadata-editor]"));
        Assert.Empty((await ModelAsync()).Value.Tags);

        panel.Find("[data-testid=cancel-metadata]").Click();
        Assert.Empty(panel.FindAll("[data-testid=metadata-editor]"));
    }
}
