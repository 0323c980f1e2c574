using Microsoft.Playwright;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class ValidationBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_version_page_follows_validation_from_pending_to_passed_without_a_reload()
    {
        var (page, errors) = await browser.NewPageAsync();
        // A loop of a few million steps: a couple of seconds of validation to watch.
        (await browser.App.CreateClient().UploadAsync("watched", AdversarialModels.Loop(3_000_000))).EnsureSuccessStatusCode();

        await page.GotoAsync("/models/watched/versions/1");
        await page.Locator("[data-testid=validation-panel]").WaitForAsync();
        await page.EvaluateAsync("""
            () => {
              window.notReloaded = true;
              window.statuses = [];
              const record = () => {
                const chip = document.querySelector('[data-testid=validation-panel] [data-testid=validation]');
                const text = chip ? chip.textContent.trim() : '';
                if (text && window.statuses[window.statuses.length - 1] !== text) window.statuses.push(text);
              };
              record();
              new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
            }
            """);

        var panel = page.Locator("[data-testid=validation-panel]");
        await Assertions.Expect(panel.Locator("[data-testid=validation]")).ToHaveTextAsync("Passed", new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "validation-passed");

        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        var statuses = await page.EvaluateAsync<string[]>("() => window.statuses");
        Assert.Equal("Passed", statuses[^1]);
        Assert.True(statuses.Length >= 2 && statuses[0] is "Pending" or "Running", $"statuses seen: {string.Join(" → ", statuses)}");
        await Assertions.Expect(panel.Locator("tr[data-check]")).ToHaveCountAsync(7);
        await Assertions.Expect(panel.Locator("tr[data-check=golden]")).ToContainTextAsync("Skipped");
        await Assertions.Expect(panel.Locator("[data-figure=p95]")).ToContainTextAsync("ms");
        await Assertions.Expect(page.Locator("[data-testid=metrics]")).ToContainTextAsync("latency_p95_ms");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_failed_validation_shows_the_failing_check_and_its_reason()
    {
        var (page, _) = await browser.NewPageAsync();
        (await browser.App.CreateClient().UploadAsync("foreign-op", AdversarialModels.CustomDomainOperator())).EnsureSuccessStatusCode();

        await page.GotoAsync("/models/foreign-op/versions/1");

        var panel = page.Locator("[data-testid=validation-panel]");
        await Assertions.Expect(panel.Locator("[data-testid=validation]")).ToHaveTextAsync("Failed", new() { Timeout = 30_000 });
        await Assertions.Expect(panel.Locator("tr[data-check=security]")).ToContainTextAsync("domain 'com.example', which is not allowed");
        await Assertions.Expect(panel.Locator("[data-testid=validation-summary]")).ToContainTextAsync("Failed security");
        await BrowserFixture.ScreenshotAsync(page, "validation-failed");
    }
}
