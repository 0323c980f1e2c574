using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.MultiInstance;

/// <summary>
/// Several registry processes on one PostgreSQL database and one bucket behave as one registry. Each
/// instance has a data folder of its own (only temporary files live there); they share the catalogue
/// and the artifacts through the servers that ./test.sh starts.
/// </summary>
[Trait(TestBackend.Trait, TestBackend.ServersOnly)]
public sealed class MultiInstanceTests : IDisposable
{
    private readonly List<string> _folders = [];
    private readonly Dictionary<string, string> _shared;

    public MultiInstanceTests()
    {
        // The first folder names the database and the bucket prefix that every instance shares.
        _shared = new Dictionary<string, string>(TestBackend.ServerSettings(NewFolder()))
        {
            ["Registry:Admin:InitialPassword"] = RegistryApp.AdminPassword,
            ["Registry:Validation:Enabled"] = "true",
            ["Registry:Validation:LeaseSeconds"] = "2",
            ["Registry:Validation:HeartbeatSeconds"] = "0.5",
            ["Registry:Validation:PollSeconds"] = "0.2",
            ["Registry:Validation:PerformanceRuns"] = "1",
            ["Registry:Validation:PerformanceMinRuns"] = "1",
            // Limits, not expectations: a loaded machine runs the looping model far slower.
            ["Registry:Validation:TimeoutSeconds"] = "300",
        };
    }

    private string NewFolder()
    {
        var folder = RegistryApp.NewDataDirectory();
        Directory.CreateDirectory(folder);
        _folders.Add(folder);
        return folder;
    }

    private Task<ServerProcess> StartInstanceAsync() => ServerProcess.StartAsync(NewFolder(), _shared);

    private async Task<string> AdminKeyAsync()
    {
        var (exit, output, error) = await ServerProcess.RunCommandAsync(
            ["apikey", "create", "--user", "admin", "--scopes", "read,write,promote", "--name", $"k{Guid.NewGuid():N}"[..12],
             $"--Registry:Storage:DataDirectory={NewFolder()}", .. _shared.Select(s => $"--{s.Key}={s.Value}")]);
        Assert.True(exit == 0, error);
        return output.Trim();
    }

    [Fact]
    public async Task Two_instances_share_uploads_validation_promotions_and_one_audit_chain()
    {
        using var a = await StartInstanceAsync();
        using var b = await StartInstanceAsync();
        var key = await AdminKeyAsync();
        var onA = a.Client(key);
        var onB = b.Client(key);

        // Uploaded through A, read and downloaded through B, byte for byte.
        var bytes = OnnxModels.Linear(64, 32, seed: 5);
        var uploaded = await onA.UploadAsync("shared", bytes);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        Assert.Equal("shared", (await (await onB.GetAsync("/api/v1/models/shared/versions/1")).JsonAsync()).GetProperty("model").GetString());
        Assert.Equal(bytes, await onB.GetByteArrayAsync("/api/v1/models/shared/versions/1/artifact"));

        // Validated exactly once, by whichever instance claimed it. (A claim may change hands when a
        // loaded machine misses a renewal of the 2 s lease; completing is what happens once.)
        var validation = await Validations.WaitAsync(onB, "shared", 1);
        Assert.Equal("Passed", validation.GetProperty("status").GetString());
        Assert.Equal(1, await CountEventsAsync(onA, "validation.completed", "version:shared/1"));

        // Two versions race to production through approvals given on both instances at once.
        var approvers = new List<HttpClient>();
        for (var i = 0; i < 4; i++)
        {
            var name = $"approver-{i}";
            (await onA.PostAsync("/api/v1/users", Json($$"""{"name": "{{name}}", "role": "Approver", "service": true}"""))).EnsureSuccessStatusCode();
            var created = await (await onB.PostAsync($"/api/v1/users/{name}/keys", Json("""{"name": "k", "scopes": ["read", "promote"]}"""))).JsonAsync();
            approvers.Add((i % 2 == 0 ? a : b).Client(created.GetProperty("secret").GetString()));
        }
        for (var v = 2; v <= 3; v++)
        {
            (await onA.UploadAsync("shared", OnnxModels.Linear(64, 32, seed: 5 + v))).EnsureSuccessStatusCode();
            Assert.Equal("Passed", (await Validations.WaitAsync(onB, "shared", v)).GetProperty("status").GetString());
        }
        var requests = new List<long>();
        for (var v = 1; v <= 3; v++)
        {
            Assert.Equal("Applied", (await onA.RequestOkAsync("shared", v, "Staging")).Status());
            requests.Add((await (v % 2 == 0 ? onA : onB).RequestOkAsync("shared", v, "Production")).Id());
        }
        var votes = await Task.WhenAll(requests.SelectMany(id => approvers.Select(approver => approver.DecideAsync(id, "approve"))));
        Assert.All(votes, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{(int)r.StatusCode}"));
        var stages = await onB.StagesAsync("shared");
        Assert.Single(stages, s => s.Value == "Production");
        var production = await (await onA.GetAsync("/api/v1/models/shared/stages/production")).JsonAsync();
        Assert.Equal(stages.Single(s => s.Value == "Production").Key, production.GetProperty("version").GetInt32());

        // Events written on both instances form one unbroken chain.
        var verified = await (await onB.GetAsync("/api/v1/audit/verify")).JsonAsync();
        Assert.True(verified.GetProperty("intact").GetBoolean(), verified.ToString());
        Assert.True(verified.GetProperty("checked").GetInt32() > 10);
    }

    [Fact]
    public async Task A_validation_whose_instance_is_killed_is_finished_once_by_another()
    {
        using var a = await StartInstanceAsync();
        using var b = await StartInstanceAsync();
        var key = await AdminKeyAsync();

        // About three seconds of looping per run: long enough to be killed in the middle.
        (await a.Client(key).UploadAsync("slow", AdversarialModels.Loop(6_000_000))).EnsureSuccessStatusCode();
        ServerProcess? owner = null;
        Assert.True(await Eventually.HoldsAsync(() => (owner = a.SandboxChildren().Count > 0 ? a : b.SandboxChildren().Count > 0 ? b : null) is not null), "no sandbox ever started");
        var survivor = owner! == a ? b : a;
        owner!.KillHard();

        var validation = await Validations.WaitAsync(survivor.Client(key), "slow", 1, TimeSpan.FromSeconds(600));
        Assert.True(validation.GetProperty("status").GetString() == "Passed", validation.ToString());
        Assert.True(validation.GetProperty("attempts").GetInt32() >= 2, "the killed instance's claim was not taken over");
        Assert.Equal(1, await CountEventsAsync(survivor.Client(key), "validation.completed", "version:slow/1"));

        // A third instance joins by starting, and sees the same registry.
        using var c = await StartInstanceAsync();
        Assert.Equal("Passed", (await (await c.Client(key).GetAsync("/api/v1/models/slow/versions/1/validation")).JsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_page_open_on_one_instance_follows_a_change_made_through_another()
    {
        // B serves the browser in this process; A is a separate process.
        var settings = _shared.ToDictionary(s => s.Key, s => (string?)s.Value);
        settings["Registry:Validation:Enabled"] = "false";
        await using var b = new RegistryApp(settings, NewFolder());
        b.UseKestrel(0);
        b.StartServer();
        using var a = await StartInstanceAsync();
        var key = await AdminKeyAsync();
        var onA = a.Client(key);
        (await onA.UploadAsync("watched", OnnxModels.Identity("multi-instance-page"))).EnsureSuccessStatusCode();
        Assert.Equal("Passed", (await Validations.WaitAsync(onA, "watched", 1)).GetProperty("status").GetString());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await BrowserFixture.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = b.CreateClient().BaseAddress!.ToString() });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await BrowserFixture.SignInAsync(page, "admin", RegistryApp.AdminPassword);
        await BrowserFixture.GotoLiveAsync(page, "/models/watched");
        await Assertions.Expect(page.Locator("[data-testid=versions-table] [data-testid=stage]")).ToHaveTextAsync("None", new() { Timeout = 30_000 });

        Assert.Equal("Applied", (await onA.RequestOkAsync("watched", 1, "Staging")).Status());

        await Assertions.Expect(page.Locator("[data-testid=versions-table] [data-testid=stage]")).ToHaveTextAsync("Staging", new() { Timeout = 30_000 });
    }

    private static async Task<int> CountEventsAsync(HttpClient client, string action, string target)
    {
        var events = await (await client.GetAsync($"/api/v1/audit?action={action}&pageSize=100")).JsonAsync();
        return events.GetProperty("items").EnumerateArray().Count(e => e.GetProperty("target").GetString() == target);
    }

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }
}
