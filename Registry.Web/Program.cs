using Registry.Core;
using Registry.Data;
using Registry.Web;

var builder = WebApplication.CreateBuilder(args);

builder.Services
    .AddRegistryCore()
    .AddRegistryData()
    .AddRegistryWeb();

var app = builder.Build();

await app.Services.InitializeRegistryDataAsync();

app.UseRegistryWeb();
app.PrintWelcomeOnStart();

await app.RunAsync();

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
