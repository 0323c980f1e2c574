using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Registry.Tests.Support;
using Registry.Web.Components.Pages.Upload;

namespace Registry.Tests.Web.Components;

public class UploadPageTests : ComponentTestBase
{
    private IRenderedComponent<UploadPage> RenderPage(string? model = null)
    {
        Context.Render<MudPopoverProvider>();
        var navigation = Context.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo(model is null ? "/upload" : $"/upload?model={Uri.EscapeDataString(model)}");
        return Context.Render<UploadPage>();
    }

    private static void ClickUpload(IRenderedComponent<UploadPage> page) => page.Find("[data-testid=upload-button]").Click();

    private bool UploadWasSent() => Context.JSInterop.Invocations.Any(i => i.Identifier == "upload");

    [Fact]
    public void Submitting_an_empty_form_shows_what_is_missing_and_sends_nothing()
    {
        var page = RenderPage();

        ClickUpload(page);

        page.WaitForAssertion(() => Assert.Contains("A model name is required.", page.Markup));
        Assert.Equal("Choose an .onnx file to upload.", page.Find("[data-testid=file-error]").TextContent);
        Assert.False(UploadWasSent());
    }

    [Fact]
    public async Task An_invalid_model_name_is_explained_beside_the_field()
    {
        var page = RenderPage();
        await page.InvokeAsync(() => page.Instance.OnFileChosen("model.onnx", 1234));

        var name = page.Find("input[data-testid=model-name]");
        name.Input("fraud..detector");
        name.Blur();
        ClickUpload(page);

        page.WaitForAssertion(() => Assert.Contains("A model name must not contain '..'.", page.Markup));
        Assert.Empty(page.FindAll("[data-testid=file-error]"));
        Assert.False(UploadWasSent());
    }

    [Fact]
    public async Task A_metric_without_a_key_or_value_is_flagged_on_its_row()
    {
        var page = RenderPage("fraud-detector");
        await page.InvokeAsync(() => page.Instance.OnFileChosen("model.onnx", 1234));
        page.Find("[data-testid=add-metric]").Click();

        ClickUpload(page);

        page.WaitForAssertion(() =>
        {
            var row = page.Find("[data-testid=metric-row]");
            Assert.Contains("A metric needs a key, such as \"auc\".", row.TextContent);
            Assert.Contains("A metric needs a numeric value.", row.TextContent);
        });
        Assert.False(UploadWasSent());
    }

    [Fact]
    public async Task A_valid_form_hands_the_file_to_the_browser_upload_and_shows_progress_and_the_result()
    {
        var page = RenderPage("fraud-detector");
        await page.InvokeAsync(() => page.Instance.OnFileChosen("model.onnx", 2048));

        ClickUpload(page);

        page.WaitForAssertion(() => Assert.True(UploadWasSent()));
        var call = Context.JSInterop.Invocations.Single(i => i.Identifier == "upload");
        Assert.EndsWith("/api/v1/models/fraud-detector/versions", (string)call.Arguments[1]!);

        await page.InvokeAsync(() => page.Instance.OnProgress(1024, 2048));
        page.WaitForAssertion(() => Assert.Contains("50%", page.Find("[data-testid=progress-text]").TextContent));

        await page.InvokeAsync(() => page.Instance.OnUploadFinished(201, """{"model": "fraud-detector", "version": 4}"""));
        page.WaitForAssertion(() => Assert.Equal("/models/fraud-detector/versions/4",
            page.Find("[data-testid=created-link]").GetAttribute("href")));
    }

    [Fact]
    public async Task A_refusal_from_the_server_is_shown_inline_with_its_message()
    {
        var page = RenderPage("fraud-detector");
        await page.InvokeAsync(() => page.Instance.OnFileChosen("notes.txt", 10));
        ClickUpload(page);
        page.WaitForAssertion(() => Assert.True(UploadWasSent()));

        await page.InvokeAsync(() => page.Instance.OnUploadFinished(422,
            """{"title": "Not an ONNX model", "status": 422, "detail": "The file is not an ONNX model: it is a text file."}"""));

        page.WaitForAssertion(() =>
        {
            var alert = page.Find("[data-testid=upload-error]").TextContent;
            Assert.Contains("Not an ONNX model", alert);
            Assert.Contains("it is a text file", alert);
        });
    }
}
