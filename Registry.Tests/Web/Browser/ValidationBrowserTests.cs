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
        var client = browser.App.CreateClient();
        // A loop of a hundred thousand steps: a moment of validation to watch, short enough that
        // its timed runs fit the sandbox's timeout on a loaded machine.
        (await client.UploadAsync("watched", AdversarialModels.Loop(100_000))).EnsureSuccessStatusCode();
        // The page is opened, live and showing the first verdict before the run it follows is queued,
        // so whether the browser or the sandbox is quicker on a loaded machine cannot change what it sees.
        await Validations.WaitAsync(client, "watched", 1);
        await BrowserFixture.GotoLiveAsync(page, "/models/watched/versions/1");
        var panel = page.Locator("[data-testid=validation-panel]");
        await Assertions.Expect(panel.Locator("[data-testid=validation]")).ToHaveTextAsync("Passed");
        await Assertions.Expect(panel.Locator("[data-figure=p95]")).ToContainTextAsync("ms");
        await Assertions.Expect(panel.Locator("[data-testid=validation-isolation]")).ToContainTextAsync("sandbox: namespaces (bubblewrap ");

        // Every state the panel shows is recorded with the figure and the run shown at that moment.
        await page.EvaluateAsync("""
            () => {
              window.notReloaded = true;
              window.seen = [];
              const record = () => {
                const panel = document.querySelector('[data-testid=validation-panel]');
                const text = selector => { const e = panel && panel.querySelector(selector); return e ? e.textContent.trim() : ''; };
                const state = { status: text('[data-testid=validation]'), p95: text('[data-figure=p95]'), run: text('[data-testid=validation-run]').split(',')[0] };
                const last = window.seen[window.seen.length - 1];
                if (state.status && (!last || last.status !== state.status || last.p95 !== state.p95 || last.run !== state.run)) window.seen.push(state);
              };
              record();
              new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
            }
            """);
        await panel.Locator("[data-testid=revalidate]").ClickAsync();
        // Run numbers count every version's runs: the re-run is whichever follows the first.
        await page.WaitForFunctionAsync("""
            () => { const last = window.seen[window.seen.length - 1]; return last.status === 'Passed' && last.run !== window.seen[0].run; }
            """, null, new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "validation-passed");

        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        var seen = System.Text.Json.JsonSerializer.Deserialize<Seen[]>(await page.EvaluateAsync<string>("() => JSON.stringify(window.seen)"), RegistryApp.Json)!;
        var story = string.Join(" → ", seen.Select(s => $"{s.Run} {s.Status} (p95 {(s.P95.Length > 0 ? s.P95 : "none")})"));
        Assert.True(seen[0] is { Status: "Passed" } && seen.Select(s => s.Run).Distinct().Count() == 2, story);
        var second = seen.SkipWhile(s => s.Run == seen[0].Run).Select(s => s.Status).Distinct().ToList();
        Assert.True(second.Count >= 2 && second[0] is "Pending" or "Running" && second[^1] == "Passed", story);
        // A run that shows Passed shows its figures at the same moment, never a "—" that fills in later.
        Assert.All(seen.Where(s => s.Status == "Passed"), s => Assert.EndsWith("ms", s.P95));
        await Assertions.Expect(panel.Locator("tr[data-check]")).ToHaveCountAsync(7);
        await Assertions.Expect(panel.Locator("tr[data-check=golden]")).ToContainTextAsync("Skipped");
        await Assertions.Expect(page.Locator("[data-testid=metrics]")).ToContainTextAsync("latency_p95_ms");
        Assert.Empty(errors);
    }

    private sealed record Seen(string Status, string P95, string Run);

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
