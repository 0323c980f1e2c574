using Microsoft.Playwright;
using Registry.Core.Access;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class PromotionBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_contributor_requests_production_a_second_person_approves_in_the_inbox_and_the_production_card_updates()
    {
        await browser.App.CreatePersonAsync("cora", Role.Contributor, "coras-long-password");
        await browser.App.CreatePersonAsync("abe", Role.Approver, "abes-long-password");
        var admin = browser.App.CreateClient();
        (await admin.UploadAsync("promoted", OnnxModels.Identity("browser-promotion"),
            """{"metrics": [{"key": "auc", "dataset": "holdout", "value": 0.91}]}""")).EnsureSuccessStatusCode();
        Assert.Equal("Passed", (await Validations.WaitAsync(admin, "promoted", 1)).GetProperty("status").GetString());
        Assert.Equal("Applied", (await admin.RequestOkAsync("promoted", 1, "Staging")).Status());

        // The contributor asks for production on the version page, seeing the gates before sending.
        var (cora, coraErrors) = await browser.NewPageAsync("cora", "coras-long-password");
        await BrowserFixture.GotoLiveAsync(cora, "/models/promoted/versions/1");
        var panel = cora.Locator("[data-testid=promotion-panel]");
        await Assertions.Expect(panel.Locator("[data-testid=preview-summary]")).ToContainTextAsync("needs 1 approval from someone other than you");
        await Assertions.Expect(panel.Locator("[data-testid=preview-gates] tr[data-status=Failed]")).ToHaveCountAsync(0);
        await Assertions.Expect(panel.Locator("[data-testid=preview-gates]")).ToContainTextAsync("The latest validation passed.");
        await panel.Locator("input[data-testid=request-comment]").FillAsync("beats the baseline on holdout");
        await panel.Locator("[data-testid=request-promotion]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=open-request] [data-testid=promotion-status]")).ToContainTextAsync("waiting for 1 approval");
        await BrowserFixture.ScreenshotAsync(cora, "promotion-requested");

        // She keeps the model page open: nothing is in production yet.
        await BrowserFixture.GotoLiveAsync(cora, "/models/promoted");
        await Assertions.Expect(cora.Locator("[data-testid=production-card]")).ToContainTextAsync("No version is in production yet.");
        Assert.Empty(await cora.Locator("[data-testid=nav-approvals]").AllAsync()); // not an approver

        // The approver sees one request waiting, with the evidence, and approves it.
        var (abe, abeErrors) = await browser.NewPageAsync("abe", "abes-long-password");
        // (Other tests of this class share the registry: count what is open besides this request.)
        var open = (await (await admin.GetAsync("/api/v1/promotions?status=Open")).JsonAsync()).GetProperty("total").GetInt32();
        var id = (await (await admin.GetAsync("/api/v1/promotions?status=Open&model=promoted")).JsonAsync()).GetProperty("items")[0].Id();
        await BrowserFixture.GotoLiveAsync(abe, "/");
        await Assertions.Expect(abe.Locator("[data-testid=approvals-count]")).ToHaveTextAsync($"{open}");
        await abe.Locator("[data-testid=nav-approvals]").ClickAsync();
        await Assertions.Expect(abe.Locator("[data-testid=approval]")).ToHaveCountAsync(open);
        var request = abe.Locator($"[data-testid=approval][data-request='{id}']");
        await Assertions.Expect(request.Locator("[data-testid=approval-title]")).ToHaveTextAsync("promoted v1");
        await Assertions.Expect(request).ToContainTextAsync("beats the baseline on holdout");
        await Assertions.Expect(request.Locator("[data-testid=production]")).ToContainTextAsync("No version is in production");
        await Assertions.Expect(request.Locator("[data-testid=evidence-metrics] tr[data-metric=auc]")).ToContainTextAsync("0.91");
        await Assertions.Expect(request.Locator("[data-testid=evidence-metrics] tr[data-metric=latency_p95_ms]")).ToContainTextAsync("measured");
        await Assertions.Expect(request.Locator("[data-testid=evidence-gates] tr[data-status=Failed]")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(abe, "approvals-inbox");
        await request.Locator("input[data-testid=decision-comment]").FillAsync("ok for production");
        await request.Locator("[data-testid=approve]").ClickAsync();
        await Assertions.Expect(request).ToHaveCountAsync(0);
        await Assertions.Expect(abe.Locator("[data-testid=approvals-count]")).ToHaveTextAsync($"{open - 1}");

        // The contributor's open page follows: production card, timeline and the versions table, without a reload.
        await Assertions.Expect(cora.Locator("[data-testid=production-version]")).ToHaveTextAsync("v1");
        await Assertions.Expect(cora.Locator("[data-testid=production-card]")).ToContainTextAsync("moved by abe");
        await Assertions.Expect(cora.Locator("[data-testid=timeline-entry]").First).ToContainTextAsync("v1: Staging → Production");
        await Assertions.Expect(cora.Locator("[data-testid=versions-table] [data-testid=stage]")).ToHaveTextAsync("Production");
        await BrowserFixture.ScreenshotAsync(cora, "model-in-production");
        var production = await (await admin.GetAsync("/api/v1/models/promoted/stages/production")).JsonAsync();
        Assert.Equal(1, production.GetProperty("version").GetInt32());
        Assert.Empty(coraErrors);
        Assert.Empty(abeErrors);
    }

    [Fact]
    public async Task The_requester_sees_no_way_to_approve_and_a_forged_approval_from_their_session_is_refused()
    {
        await browser.App.CreatePersonAsync("ada", Role.Approver, "adas-long-password");
        var admin = browser.App.CreateClient();
        (await admin.UploadAsync("self-approved", OnnxModels.Identity("browser-self"))).EnsureSuccessStatusCode();
        await Validations.WaitAsync(admin, "self-approved", 1);
        await admin.RequestOkAsync("self-approved", 1, "Staging");

        var (page, _) = await browser.NewPageAsync("ada", "adas-long-password");
        await BrowserFixture.GotoLiveAsync(page, "/models/self-approved/versions/1");
        await page.Locator("[data-testid=request-promotion]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=open-request] [data-testid=promotion-status]")).ToContainTextAsync("waiting for 1 approval");

        // Her own request is not in her inbox...
        var id = (await (await admin.GetAsync("/api/v1/promotions?status=Open&model=self-approved")).JsonAsync()).GetProperty("items")[0].Id();
        await BrowserFixture.GotoLiveAsync(page, "/approvals");
        await Assertions.Expect(page.Locator("h4", new() { HasText = "Approvals" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=approval][data-request='{id}']")).ToHaveCountAsync(0);
        // ...and approving it from her signed-in session anyway is refused by the server.
        var result = await page.EvaluateAsync<string>("""
            async (id) => {
              const token = document.querySelector('input[name=__RequestVerificationToken]').value;
              const response = await fetch(`/api/v1/promotions/${id}/approve`, { method: 'POST', headers: { 'X-CSRF-TOKEN': token, 'Content-Type': 'application/json' }, body: '{}' });
              return response.status + ' ' + (await response.json()).detail;
            }
            """, id);
        Assert.StartsWith("403 ", result);
        Assert.Contains("someone else must approve it (four eyes)", result);
        Assert.Equal("Staging", (await admin.StagesAsync("self-approved"))[1]);
    }
}
