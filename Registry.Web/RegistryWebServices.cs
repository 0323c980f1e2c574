using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MudBlazor.Services;
using Registry.Core;
using Registry.Data;
using Registry.Web.Api;
using Registry.Web.Components;
using Registry.Web.Validation;
using Scalar.AspNetCore;

namespace Registry.Web;

public static class RegistryWebServices
{
    /// <summary>Registers the UI, the REST API and what they share.</summary>
    public static IServiceCollection AddRegistryWeb(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Registry API";
            document.Info.Description = "A self-hosted model registry: upload ONNX models, read their signatures, metrics and lineage, download artifacts.";
            return Task.CompletedTask;
        }));

        // Keys that protect circuits and antiforgery tokens live in the data folder, so a restart
        // does not invalidate open pages.
        services.AddDataProtection().SetApplicationName("Registry");
        services.AddOptions<KeyManagementOptions>().Configure<DataPaths, ILoggerFactory>((options, paths, loggers) =>
            options.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(paths.Root, "keys")), loggers));

        services.AddSingleton<SandboxRunner>();
        services.AddHostedService<ValidationWorker>();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        return services;
    }

    /// <summary>The request pipeline and endpoints, in order.</summary>
    public static WebApplication UseRegistryWeb(this WebApplication app)
    {
        app.UseExceptionHandler();
        // API clients get problem+json for every error status; people get the UI's not-found page.
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api
            .UseStatusCodePages(Problems.WriteForBareStatusAsync)
            .Use(CrossOriginGuard.InvokeAsync));
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api") && !c.Request.Path.StartsWithSegments("/openapi"),
            ui => ui.UseStatusCodePagesWithReExecute("/not-found"));
        app.UseAntiforgery();

        app.MapOpenApi();
        app.MapScalarApiReference(o => o.WithTitle("Registry API"));
        app.MapModelsApi();
        app.MapVersionsApi();

        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Tells the person who started the server where to find it.</summary>
    public static void PrintWelcomeOnStart(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var url = addresses.FirstOrDefault() ?? "(no address)";
            var paths = app.Services.GetRequiredService<DataPaths>();
            Console.WriteLine();
            Console.WriteLine($"  Registry is running at {url}");
            Console.WriteLine($"  API reference:          {url.TrimEnd('/')}/scalar/v1");
            Console.WriteLine($"  Data (SQLite, artifacts): {paths.Root}");
            Console.WriteLine("  Sign-in: none yet. Accounts and API keys are not implemented in this build, so the");
            Console.WriteLine("  server answers on localhost only (Urls, AllowedHosts); keep it there until they are.");
            Console.WriteLine();
        });
    }
}
