using Bunit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using Registry.Core;
using Registry.Core.Catalog;
using Registry.Core.Storage;
using Registry.Data;

namespace Registry.Tests.Support;

/// <summary>
/// bUnit with MudBlazor and the registry's real services on a temporary SQLite database, so that
/// components are tested against what they will really read.
/// </summary>
public abstract class ComponentTestBase : IAsyncLifetime
{
    private readonly string _dataDirectory = RegistryApp.NewDataDirectory();

    protected BunitContext Context { get; } = new();

    public virtual async Task InitializeAsync()
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Registry:Storage:DataDirectory"] = _dataDirectory })
            .Build();
        Context.Services.AddSingleton<IConfiguration>(configuration);
        Context.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Context.Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Context.Services.AddRegistryCore().AddRegistryData();
        Context.Services.AddMudServices();
        await Context.Services.InitializeRegistryDataAsync();
    }

    /// <summary>Registers a model version through the same use case the API uses.</summary>
    protected async Task<VersionView> UploadAsync(string model, byte[] bytes, VersionMetadata? metadata = null)
    {
        var store = Context.Services.GetRequiredService<IArtifactStore>();
        var commands = Context.Services.GetRequiredService<CatalogCommands>();
        var staged = await store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None);
        await using var file = staged.Value;
        var version = await commands.AddVersionAsync(model, metadata, file, "tester");
        Assert.True(version.IsSuccess, version.Error?.Detail);
        return version.Value;
    }

    protected async Task CreateModelAsync(string name, string description)
    {
        var created = await Context.Services.GetRequiredService<CatalogCommands>()
            .CreateModelAsync(new CreateModelRequest { Name = name, Description = description }, "tester");
        Assert.True(created.IsSuccess, created.Error?.Detail);
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
