using Registry.Core;
using Registry.Data;
using Registry.Web;
using Registry.Web.Cli;
using Registry.Web.Security;

if (RegistryCli.IsCommand(args)) return await RegistryCli.RunAsync(args);
if (args is [CatalogueGenerator.Command, ..]) return await CatalogueGenerator.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);

builder.Services
    .AddRegistryCore()
    .AddRegistryData()
    .AddRegistryWeb();

var app = builder.Build();

await app.Services.InitializeRegistryDataAsync();
await AdminAccount.EnsureAsync(app.Services);

app.UseRegistryWeb();
app.PrintWelcomeOnStart();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
