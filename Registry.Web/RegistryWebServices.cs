using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using Registry.Core.Access;
using Registry.Core;
using Registry.Data;
using Registry.Web.Api;
using Registry.Web.Components;
using Registry.Web.Security;
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

        // Keys that protect cookies, circuits and antiforgery tokens live in the database: a restart
        // does not invalidate open pages, and every instance accepts what another one made.
        services.AddDataProtection().SetApplicationName("Registry");
        services.AddSingleton<DatabaseKeyRepository>();
        services.AddOptions<KeyManagementOptions>().Configure<DatabaseKeyRepository>((options, keys) => options.XmlRepository = keys);

        services.AddSingleton<SandboxLauncher>();
        services.AddSingleton<SandboxRunner>();
        services.AddSingleton<Markdown.MarkdownRenderer>();
        services.AddHostedService<ValidationWorker>();
        services.AddHostedService<Promotions.PromotionWorker>();
        services.AddHostedService<Housekeeping.GarbageCollectionWorker>();

        AddAccess(services);

        // A model card (up to 100,000 characters) travels from its text area in one message: allow
        // for that instead of SignalR's 32 KB default, which would drop the circuit.
        services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(o => o.MaximumReceiveMessageSize = 512 * 1024);
        services.AddMudServices();
        return services;
    }

    /// <summary>Who may do what: sign-in cookies, API keys, one policy per permission, rate limits.</summary>
    private static void AddAccess(IServiceCollection services)
    {
        new IdentityBuilder(typeof(RegistryUser), services).AddSignInManager(); // AddIdentityCore ran in AddRegistryCore
        services.AddScoped<IUserClaimsPrincipalFactory<RegistryUser>, RegistryClaimsPrincipalFactory>();
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = RegistryScheme;
                o.DefaultChallengeScheme = RegistryScheme;
            })
            // A bearer key means the API key scheme; anything else is the sign-in cookie.
            .AddPolicyScheme(RegistryScheme, "Registry", o => o.ForwardDefaultSelector = http =>
                ApiKeyAuthenticationHandler.BearerToken(http.Request) is null ? IdentityConstants.ApplicationScheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/access-denied";
            o.Cookie.Name = "registry.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        // A disabled account or a changed role ends existing sessions within a minute; the services
        // re-read roles on every change anyway.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.AddAntiforgery(o => o.HeaderName = ApiAntiforgery.Header);

        services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddAuthorization(o =>
        {
            foreach (var permission in Permission.All)
                o.AddPolicy(permission.Policy, p => p.AddRequirements(new PermissionRequirement(permission)));
        });
        services.AddCascadingAuthenticationState();
        services.AddScoped<CircuitActor>();

        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .Validate(o => o.PermitsPerMinute > 0, "Registry:RateLimit:PermitsPerMinute must be positive.")
            .Validate(o => o.FailedAuthenticationsPerMinute > 0, "Registry:RateLimit:FailedAuthenticationsPerMinute must be positive.").ValidateOnStart();
        services.AddSingleton<FailedAuthenticationThrottle>();
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = ApiRateLimit.Create();
            o.OnRejected = ApiRateLimit.RejectAsync;
        });
    }

    private const string RegistryScheme = "Registry";

    /// <summary>The request pipeline and endpoints, in order.</summary>
    public static WebApplication UseRegistryWeb(this WebApplication app)
    {
        // A request the server cannot read (a bad form, a broken body) is the client's 400, not a 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.Use(SecurityHeaders.InvokeAsync);
        // API clients get problem+json for every error status; people get the UI's not-found page.
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api
            .UseStatusCodePages(Problems.WriteForBareStatusAsync)
            .Use(CrossOriginGuard.InvokeAsync));
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api") && !c.Request.Path.StartsWithSegments("/openapi"),
            ui => ui.UseStatusCodePagesWithReExecute("/not-found"));
        app.UseMiddleware<FailedAuthenticationThrottle>();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.Use(RefusedWriteAudit.InvokeAsync);
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.Use(ApiAntiforgery.InvokeAsync));
        app.Use(PasswordChangeFirst.InvokeAsync);
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(o => o.WithTitle("Registry API")).AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapModelsApi();
        app.MapVersionsApi();
        app.MapAccessApi();
        app.MapPromotionsApi();
        app.MapServingApi();
        app.MapCompareApi();

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
            Console.WriteLine($"  Sign in at {url.TrimEnd('/')}/login. On the first run the user is 'admin' with the one-time");
            Console.WriteLine($"  password printed above (also in {AdminAccount.InitialPasswordFile(paths)} until you change it).");
            if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Registry.Core.Validation.ValidationOptions>>().Value.Enabled)
            {
                var walls = app.Services.GetRequiredService<SandboxLauncher>().Walls();
                Console.WriteLine(walls.IsAvailable
                    ? $"  Validation sandboxes run in {walls.Description}."
                    : $"  Validation cannot run, so uploads will fail validation: {walls.Unavailable}");
            }
            Console.WriteLine();
        });
    }
}
