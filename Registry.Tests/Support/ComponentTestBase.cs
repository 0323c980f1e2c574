using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Registry.Core.Access;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using Registry.Core;
using Registry.Core.Catalog;
using Registry.Core.Storage;
using Registry.Data;
using Registry.Web;

namespace Registry.Tests.Support;

/// <summary>
/// bUnit with MudBlazor and the registry's real services on a temporary SQLite database, so that
/// components are tested against what they will really read.
/// </summary>
public abstract class ComponentTestBase : IAsyncLifetime
{
    private readonly string _dataDirectory = RegistryApp.NewDataDirectory();

    // A bound, not an expectation: "wait for" returns as soon as the assertion holds, and a loaded
    // 2-core machine (or a database server beside the tests) can take seconds where 1 s is bUnit's default.
    static ComponentTestBase() => BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(30);

    protected BunitContext Context { get; } = new();

    public virtual async Task InitializeAsync()
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        var settings = TestBackend.SettingsFor(_dataDirectory).ToDictionary(s => s.Key, s => (string?)s.Value);
        settings["Registry:Storage:DataDirectory"] = _dataDirectory;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        Context.Services.AddSingleton<IConfiguration>(configuration);
        Context.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Context.Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Context.Services.AddRegistryCore().AddRegistryProviders(configuration);
        Context.Services.AddMudServices();
        Context.Services.AddScoped<Registry.Web.Security.CircuitActor>();
        Context.Services.AddSingleton<Registry.Web.Markdown.MarkdownRenderer>();
        Context.Services.AddSingleton<Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider, FixedAntiforgery>();
        var auth = Context.AddAuthorization();
        await Context.Services.InitializeRegistryDataAsync();

        // The person the components act for: an admin, known to the database and to the page.
        var users = Context.Services.GetRequiredService<UserManager<RegistryUser>>();
        var user = new RegistryUser { UserName = "tester", Role = Role.Admin, CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user)).Succeeded);
        Tester = Actor.ForUser(user);
        auth.SetAuthorized("tester");
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim(ClaimTypes.Role, "Admin"));
        auth.SetPolicies(Permission.All.Select(p => p.Policy).ToArray());
    }

    protected Actor Tester { get; private set; } = null!;

    private sealed class FixedAntiforgery : Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider
    {
        public override Microsoft.AspNetCore.Components.Forms.AntiforgeryRequestToken? GetAntiforgeryToken() => new("test-token", "__RequestVerificationToken");
    }

    /// <summary>Registers a model version through the same use case the API uses.</summary>
    protected async Task<VersionView> UploadAsync(string model, byte[] bytes, VersionMetadata? metadata = null)
    {
        var store = Context.Services.GetRequiredService<IArtifactStore>();
        var commands = Context.Services.GetRequiredService<CatalogCommands>();
        var staged = await store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None);
        await using var file = staged.Value;
        var version = await commands.AddVersionAsync(model, metadata, file, Tester);
        Assert.True(version.IsSuccess, version.Error?.Detail);
        return version.Value;
    }

    protected async Task CreateModelAsync(string name, string description)
    {
        var created = await Context.Services.GetRequiredService<CatalogCommands>()
            .CreateModelAsync(new CreateModelRequest { Name = name, Description = description }, Tester);
        Assert.True(created.IsSuccess, created.Error?.Detail);
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (TestBackend.UsesPostgreSql) await TestBackend.DropAsync(_dataDirectory);
        try { Directory.Delete(_dataDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
