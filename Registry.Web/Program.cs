using Registry.Core;
using Registry.Data;
using Registry.Web;
using Registry.Web.Cli;
using Registry.Web.Security;

if (RegistryCli.IsCommand(args)) return await RegistryCli.RunAsync(args);

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.Configuration.AddRegistryDefaults();

    builder.Services
        .AddRegistryCore()
        .AddRegistryProviders(builder.Configuration)
        .AddRegistryWeb();

    var app = builder.Build();

    await app.Services.InitializeRegistryDataAsync();
    await AdminAccount.EnsureAsync(app.Services);

    app.UseRegistryWeb();
    app.PrintWelcomeOnStart();

    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (StartupProblems.IsEntryPoint && StartupProblems.Describe(ex) is { } problem)
{
    return StartupProblems.Report(problem);
}

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
