using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class UploadBrowserTests(BrowserFixture browser)
{
    private static async Task OpenUploadPageAsync(IPage page)
    {
        await page.GotoAsync("/upload");
        // The drop zone is armed once the circuit is live and the upload script is loaded.
        await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
    }

    [Fact]
    public async Task A_model_uploaded_through_the_page_shows_full_progress_and_then_its_signature()
    {
        var (page, errors) = await browser.NewPageAsync();
        var model = TestData.BackendModel(Path.Combine("node", "test_conv_with_strides_padding"));
        await OpenUploadPageAsync(page);

        await page.Locator("input[data-testid=model-name]").FillAsync("vision-conv");
        await page.Locator("[data-testid=file-input]").SetInputFilesAsync(model);
        await Assertions.Expect(page.Locator("[data-testid=chosen-file]")).ToContainTextAsync("model.onnx");
        await page.Locator("[data-testid=add-metric]").ClickAsync();
        await page.GetByLabel("Key").FillAsync("auc");
        await page.GetByLabel("Value").FillAsync("0.93");
        await page.GetByLabel("Dataset (optional)").FillAsync("holdout");
        await page.Locator("[data-testid=upload-button]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=upload-success]")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", "100");
        await Assertions.Expect(page.Locator("[data-testid=progress-text]")).ToContainTextAsync("100%");
        await BrowserFixture.ScreenshotAsync(page, "upload-done");

        await page.Locator("[data-testid=created-link]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/models/vision-conv/versions/1$"));
        var inputs = page.Locator("[data-testid=inputs]");
        await Assertions.Expect(inputs).ToContainTextAsync("x");
        await Assertions.Expect(inputs).ToContainTextAsync("tensor(float)");
        await Assertions.Expect(inputs).ToContainTextAsync("[1, 1, 7, 5]");
        await Assertions.Expect(page.Locator("[data-testid=outputs]")).ToContainTextAsync("y");
        await Assertions.Expect(page.Locator("[data-testid=operators]")).ToContainTextAsync("Conv");
        await Assertions.Expect(page.Locator("[data-testid=metrics]")).ToContainTextAsync("0.93");
        await BrowserFixture.ScreenshotAsync(page, "version");

        await page.GetByRole(AriaRole.Link, new() { Name = "Models" }).First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=models-table]")).ToContainTextAsync("vision-conv");
        await BrowserFixture.ScreenshotAsync(page, "models");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Progress_follows_the_bytes_as_they_are_sent()
    {
        var (page, errors) = await browser.NewPageAsync();
        var path = Path.Combine(Path.GetTempPath(), $"big-{Guid.NewGuid():N}.onnx");
        await File.WriteAllBytesAsync(path, OnnxModels.Linear(inFeatures: 1024, outFeatures: 2048));  // 8 MiB of weights
        try
        {
            await OpenUploadPageAsync(page);
            // Throttle the upload to about 4 MiB/s so that progress has time to be seen between 0 and 100.
            var cdp = await page.Context.NewCDPSessionAsync(page);
            await cdp.SendAsync("Network.enable");
            await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
            {
                ["offline"] = false,
                ["latency"] = 0,
                ["downloadThroughput"] = -1,
                ["uploadThroughput"] = 4 * 1024 * 1024,
            });
            await page.EvaluateAsync("""
                () => {
                  window.progressSeen = [];
                  new MutationObserver(() => {
                    const bar = document.querySelector('[role=progressbar]');
                    if (bar) window.progressSeen.push(Number(bar.getAttribute('aria-valuenow')));
                  }).observe(document.body, { subtree: true, childList: true, attributes: true });
                }
                """);

            await page.Locator("input[data-testid=model-name]").FillAsync("big-linear");
            await page.Locator("[data-testid=file-input]").SetInputFilesAsync(path);
            await page.Locator("[data-testid=upload-button]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=upload-success]")).ToBeVisibleAsync(new() { Timeout = 30_000 });

            var seen = await page.EvaluateAsync<double[]>("() => window.progressSeen");
            Assert.Contains(seen, p => p > 0 && p < 100);
            Assert.Equal(100, seen[^1]);
            Assert.Equal(seen.Order(), seen);
            Assert.Empty(errors);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_refused_inline_with_the_servers_reason()
    {
        var (page, _) = await browser.NewPageAsync();
        var html = Path.Combine(Path.GetTempPath(), $"login-{Guid.NewGuid():N}.onnx");
        await File.WriteAllTextAsync(html, "<!DOCTYPE html><html><body>Please sign in</body></html>");
        try
        {
            await OpenUploadPageAsync(page);
            await page.Locator("input[data-testid=model-name]").FillAsync("not-a-model");
            await page.Locator("[data-testid=file-input]").SetInputFilesAsync(html);
            await page.Locator("[data-testid=upload-button]").ClickAsync();

            var error = page.Locator("[data-testid=upload-error]");
            await Assertions.Expect(error).ToContainTextAsync("Not an ONNX model");
            await Assertions.Expect(error).ToContainTextAsync("is an HTML page");
            await BrowserFixture.ScreenshotAsync(page, "upload-refused");
            var models = await browser.App.CreateClient().GetAsync("/api/v1/models/not-a-model");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, models.StatusCode);
        }
        finally
        {
            File.Delete(html);
        }
    }
}
