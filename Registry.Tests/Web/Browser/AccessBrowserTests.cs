using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Registry.Core.Access;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Browser;

[Collection(BrowserCollection.Name)]
public class AccessBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_first_sign_in_with_the_printed_password_must_choose_a_new_one()
    {
        // A registry started with no admin password configured, as a newcomer starts it.
        await using var app = new RegistryApp(new Dictionary<string, string?> { ["Registry:Admin:InitialPassword"] = "" });
        app.UseKestrel(0);
        app.StartServer();
        var address = app.ClientOptions.BaseAddress;
        var file = Path.Combine(app.DataDirectory, "initial-admin-password");
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(app.DataDirectory));
        }
        var oneTime = (await File.ReadAllTextAsync(file)).Trim();

        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/models");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?returnUrl=", RegexOptions.IgnoreCase));
        await page.Locator("[data-testid=username]").FillAsync("admin");
        await page.Locator("[data-testid=password]").FillAsync(oneTime);
        await page.Locator("[data-testid=sign-in]").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/password"));
        await Assertions.Expect(page.Locator("[data-testid=must-change]")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "must-change-password");
        // Until then, every other page leads back here.
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/password"));

        await page.Locator("[data-testid=current]").FillAsync(oneTime);
        await page.Locator("[data-testid=new]").FillAsync("a-passphrase-of-my-own");
        await page.Locator("[data-testid=confirm]").FillAsync("a-passphrase-of-my-own");
        await page.Locator("[data-testid=save-password]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=models-table]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=user-menu]")).ToContainTextAsync("admin");
        Assert.False(File.Exists(file), "the one-time password file should be gone once it has been used");
        await context.DisposeAsync();
    }

    [Fact]
    public async Task A_viewer_sees_no_upload_and_a_forged_upload_from_their_session_is_refused()
    {
        await browser.App.CreatePersonAsync("vera", Role.Viewer, "veras-long-password");
        var (page, _) = await browser.NewPageAsync("vera", "veras-long-password");

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("[data-testid=models-table]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=user-menu]")).ToContainTextAsync("vera · Viewer");
        await Assertions.Expect(page.Locator("[data-testid=nav-upload]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=upload-link]")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "viewer");

        // The button is hidden, but the server is what says no: post an upload from her session,
        // with her cookie and the page's own antiforgery token.
        var result = await page.EvaluateAsync<string>("""
            async () => {
              const token = document.querySelector('input[name=__RequestVerificationToken]').value;
              const form = new FormData();
              form.append('file', new Blob([new Uint8Array([8, 7, 18, 1, 120])]), 'model.onnx');
              const response = await fetch('/api/v1/models/forged/versions', { method: 'POST', body: form, headers: { 'X-CSRF-TOKEN': token } });
              return response.status + ' ' + (await response.json()).detail;
            }
            """);
        Assert.StartsWith("403 ", result);
        Assert.Contains("needs the Contributor role; 'vera' is a Viewer", result);

        await page.GotoAsync("/upload");
        await Assertions.Expect(page.Locator("[data-testid=not-allowed]")).ToBeVisibleAsync();
        var models = await browser.App.CreateClient().GetAsync("/api/v1/models/forged");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, models.StatusCode);
    }

    [Fact]
    public async Task A_person_creates_a_key_in_the_page_sees_it_once_and_can_use_it()
    {
        await browser.App.CreatePersonAsync("kim", Role.Contributor, "kims-long-password");
        var (page, errors) = await browser.NewPageAsync("kim", "kims-long-password");

        await BrowserFixture.GotoLiveAsync(page, "/account/keys");
        await page.Locator("input[data-testid=key-name]").FillAsync("laptop");
        await page.Locator("[data-testid=scope-write]").ClickAsync();
        await page.Locator("[data-testid=create-key]").ClickAsync();

        var secret = (await page.Locator("[data-testid=secret]").InnerTextAsync()).Trim();
        Assert.StartsWith("rk_", secret);
        await Assertions.Expect(page.Locator("[data-testid=keys-table]")).ToContainTextAsync("read,write");
        await BrowserFixture.ScreenshotAsync(page, "my-keys");
        var client = browser.App.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await client.UploadAsync("from-laptop", OnnxModels.Identity("laptop"))).StatusCode);

        await page.Locator("[data-testid=revoke]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=keys-table]")).ToContainTextAsync("revoked");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/models")).StatusCode);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_admin_creates_a_person_in_the_users_page_and_gets_a_one_time_password()
    {
        var (page, errors) = await browser.NewPageAsync();
        await BrowserFixture.GotoLiveAsync(page, "/admin/users");
        await page.Locator("input[data-testid=new-user-name]").FillAsync("newcomer");
        await page.Locator("[data-testid=create-user]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=users-message]")).ToContainTextAsync("Created newcomer");
        var password = (await page.Locator("[data-testid=secret]").InnerTextAsync()).Trim();
        Assert.Equal(20, password.Length);
        await Assertions.Expect(page.Locator("[data-testid=users-table]")).ToContainTextAsync("newcomer");
        await BrowserFixture.ScreenshotAsync(page, "users");

        await page.GotoAsync("/admin/audit");
        await Assertions.Expect(page.Locator("[data-testid=audit-table]")).ToContainTextAsync("user.created");
        await page.Locator("[data-testid=verify]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=verification]")).ToContainTextAsync("The chain is intact");
        await BrowserFixture.ScreenshotAsync(page, "audit");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_role_taken_away_stops_working_in_a_page_that_is_already_open()
    {
        var admin = browser.App.CreateClient();
        (await admin.UploadAsync("demoted-check", OnnxModels.Identity("demote"))).EnsureSuccessStatusCode();
        await Validations.WaitAsync(admin, "demoted-check", 1);
        var before = await (await admin.GetAsync("/api/v1/models/demoted-check/versions/1/validation")).JsonAsync();
        await browser.App.CreatePersonAsync("lee", Role.Contributor, "lees-long-password");
        var (page, _) = await browser.NewPageAsync("lee", "lees-long-password");
        await BrowserFixture.GotoLiveAsync(page, "/models/demoted-check/versions/1");
        await Assertions.Expect(page.Locator("[data-testid=revalidate]")).ToBeEnabledAsync();

        // While Lee's page stays open, an admin makes Lee a viewer.
        var demote = await admin.PatchAsync("/api/v1/users/lee", new StringContent("""{"role": "Viewer"}""", System.Text.Encoding.UTF8, "application/json"));
        demote.EnsureSuccessStatusCode();
        await page.Locator("[data-testid=revalidate]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=revalidate-error]")).ToContainTextAsync("needs the Contributor role; 'lee' is a Viewer");
        var validation = await (await admin.GetAsync("/api/v1/models/demoted-check/versions/1/validation")).JsonAsync();
        // Nothing was queued: the version keeps the run and result it had.
        Assert.Equal(before.GetProperty("run").GetInt64(), validation.GetProperty("run").GetInt64());
        Assert.Equal("Passed", validation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        var (page, _) = await browser.NewPageAsync();
        // Live first: a click while the prerendered layout is swapped for the interactive one can
        // land on the form being replaced, and no sign-out is posted (clean-clone run, PostgreSQL pass).
        await BrowserFixture.GotoLiveAsync(page, "/");
        await page.Locator("[data-testid=sign-out]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?signedOut=true"));
        await page.GotoAsync("/models");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?returnUrl=", RegexOptions.IgnoreCase));
    }
}
