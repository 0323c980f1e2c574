using Microsoft.Playwright;

namespace Registry.Tests.Support;

/// <summary>
/// A real registry on a loopback port and Debian's Chromium driven by Playwright, shared by the
/// browser tests. No browser is downloaded: test.sh installs the distribution's chromium.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public RegistryApp App { get; } = new(Validations.Enabled());

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing. Run ./test.sh, which installs Debian's chromium for the browser tests.");
        // Expectations poll until they hold; on a loaded 2-core CI machine a page can take longer
        // than Playwright's 5 s default to reach the state a test waits for.
        Assertions.SetDefaultExpectTimeout(15_000);
        App.UseKestrel(0);
        App.StartServer();
        BaseAddress = App.CreateClient().BaseAddress!;

        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchAsync(_playwright);
    }

    /// <summary>Debian's Chromium, headless, with the flags this machine's closed network needs.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = ChromiumPath,
        Headless = true,
        Args =
        [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
        ],
    });

    /// <summary>A fresh page in its own browser context, signed in (as the admin unless told otherwise); console errors are collected.</summary>
    public async Task<(IPage Page, List<string> Errors)> NewPageAsync(string? user = "admin", string password = RegistryApp.AdminPassword)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString(), ViewportSize = new() { Width = 1280, Height = 1000 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        if (user is not null) await SignInAsync(page, user, password);
        return (page, errors);
    }

    /// <summary>Opens a page and waits until it is live (its circuit connected), so that typing reaches the components.</summary>
    public static async Task GotoLiveAsync(IPage page, string url)
    {
        await page.GotoAsync(url);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    public static async Task SignInAsync(IPage page, string user, string password, string returnUrl = "/")
    {
        await page.GotoAsync($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        await page.Locator("[data-testid=username]").FillAsync(user);
        await page.Locator("[data-testid=password]").FillAsync(password);
        await page.Locator("[data-testid=sign-in]").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
    }

    /// <summary>Saves a screenshot when REGISTRY_SCREENSHOTS names a folder, for looking at the UI by eye.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("REGISTRY_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await App.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
