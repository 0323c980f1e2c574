using Microsoft.Playwright;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Browser;

/// <summary>A hostile model card, saved through the UI and shown in a real browser, runs nothing.</summary>
[Collection(BrowserCollection.Name)]
public class CardBrowserTests(BrowserFixture browser)
{
    private const string HostileCard = """
        # Carded model

        <script>window.pwned=1</script>

        <img src=x onerror="window.pwned=1">

        [click](javascript:window.pwned=1) and [also](JaVaScRiPt:window.pwned=1)

        See [the docs](https://example.com/docs).

        | metric | value |
        |--------|-------|
        | auc    | 0.93  |
        """;

    /// <summary>Elements in the card carrying an on* attribute, or a href/src that is not http(s), mailto or relative.</summary>
    private const string DangerousNodes = """
        el => [...el.querySelectorAll('*')].filter(n => [...n.attributes].some(a =>
            a.name.toLowerCase().startsWith('on') ||
            ((a.name === 'href' || a.name === 'src') && /^\s*[a-z][a-z0-9+.-]*:/i.test(a.value) && !/^\s*(https?|mailto):/i.test(a.value))))
            .map(n => n.outerHTML)
        """;

    private static async Task AssertInertAsync(IPage page, ILocator card)
    {
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        Assert.Equal(0, await card.Locator("script").CountAsync());
        Assert.Equal(0, await card.Locator("img").CountAsync());
        Assert.Equal(0, await card.Locator("[onerror]").CountAsync());
        Assert.Empty(await card.EvaluateAsync<string[]>(DangerousNodes));
        // The raw HTML is shown as the text it is.
        await Assertions.Expect(card).ToContainTextAsync("<script>window.pwned=1</script>");

        // The javascript: links kept their words and lost their target; clicking them does nothing.
        var click = card.Locator("a", new() { HasText = "click" });
        Assert.Null(await click.GetAttributeAsync("href"));
        await click.ClickAsync();
        await card.Locator("a", new() { HasText = "also" }).ClickAsync();
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));

        // Ordinary Markdown renders: heading, link (with a safe rel) and table.
        await Assertions.Expect(card.Locator("h1")).ToHaveTextAsync("Carded model");
        var docs = card.Locator("a[href='https://example.com/docs']");
        await Assertions.Expect(docs).ToHaveAttributeAsync("rel", "noopener noreferrer nofollow");
        await Assertions.Expect(card.Locator("table td")).ToHaveTextAsync(["auc", "0.93"]);
    }

    [Fact]
    public async Task A_card_with_script_onerror_and_javascript_links_saved_in_the_ui_runs_nothing_after_a_reload()
    {
        var admin = browser.App.CreateClient();
        (await admin.PostAsync("/api/v1/models", Json("""{"name": "carded", "description": "has a card"}"""))).EnsureSuccessStatusCode();

        var (page, errors) = await browser.NewPageAsync();
        await BrowserFixture.GotoLiveAsync(page, "/models/carded");
        await Assertions.Expect(page.Locator("[data-testid=no-card]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=edit-metadata]").ClickAsync();
        await page.Locator("textarea[data-testid=edit-tags]").FillAsync("team=risk\ntier=1");
        await page.Locator("textarea[data-testid=edit-card]").FillAsync(HostileCard);

        // The live preview is already the sanitised rendering.
        var preview = page.Locator("[data-testid=card-preview]");
        await Assertions.Expect(preview.Locator("h1")).ToHaveTextAsync("Carded model");
        Assert.Equal(0, await preview.Locator("script, img, [onerror]").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        await BrowserFixture.ScreenshotAsync(page, "card-editor");

        await page.Locator("[data-testid=save-metadata]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=card] h1")).ToHaveTextAsync("Carded model");
        await Assertions.Expect(page.Locator("[data-testid=tags]")).ToContainTextAsync("team=risk");

        // Reloaded from the server: the stored card goes through the same renderer.
        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await AssertInertAsync(page, page.Locator("[data-testid=card]"));
        await BrowserFixture.ScreenshotAsync(page, "card-rendered");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_hostile_version_card_sent_through_the_api_is_inert_on_the_version_page()
    {
        var admin = browser.App.CreateClient();
        (await admin.UploadAsync("carded-version", OnnxModels.Identity("browser-card"))).EnsureSuccessStatusCode();
        var body = System.Text.Json.JsonSerializer.Serialize(new { card = HostileCard });
        (await admin.PatchAsync("/api/v1/models/carded-version/versions/1", Json(body))).EnsureSuccessStatusCode();

        var (page, errors) = await browser.NewPageAsync();
        await BrowserFixture.GotoLiveAsync(page, "/models/carded-version/versions/1");
        await AssertInertAsync(page, page.Locator("[data-testid=card]"));

        // A long card (far beyond SignalR's default 32 KB message) is edited and saved from the page.
        var big = "# Big card\n\n" + string.Join("\n\n", Enumerable.Repeat("Lorem ipsum dolor sit amet, é ü 数据 — a paragraph.", 1500));
        Assert.True(big.Length > 60_000);
        await page.Locator("[data-testid=edit-metadata]").ClickAsync();
        // (Set at once, like a paste: Playwright's fill of this much text takes longer than the test may.)
        await page.Locator("textarea[data-testid=edit-card]").EvaluateAsync(
            "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', { bubbles: true })); }", big);
        await Assertions.Expect(page.Locator("[data-testid=card-preview] h1")).ToHaveTextAsync("Big card");
        await page.Locator("[data-testid=save-metadata]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=card] h1")).ToHaveTextAsync("Big card");
        var saved = await (await admin.GetAsync("/api/v1/models/carded-version/versions/1")).JsonAsync();
        Assert.Equal(big, saved.GetProperty("card").GetString());
        Assert.Empty(errors);
    }
}
