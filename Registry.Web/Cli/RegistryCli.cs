using Microsoft.AspNetCore.Identity;
using Registry.Core;
using Registry.Core.Access;
using Registry.Data;

namespace Registry.Web.Cli;

/// <summary>
/// Commands for automated setups, run by the same program without starting the server:
/// <c>dotnet Registry.Web.dll apikey create --user admin --scopes read,write,promote --name ci [--expires 2027-01-01]</c>
/// prints only the key (and records an audit event).
/// </summary>
public static class RegistryCli
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] == "apikey";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["apikey", "create", .. var rest])
            return Usage("unknown command");
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var configuration = new List<string>();
        for (var i = 0; i < rest.Length; i++)
        {
            if (rest[i] is "--user" or "--scopes" or "--name" or "--expires" && i + 1 < rest.Length) options[rest[i][2..]] = rest[++i];
            else configuration.Add(rest[i]); // --Registry:Storage:DataDirectory=… and the like
        }
        if (!options.TryGetValue("user", out var userName) || !options.TryGetValue("name", out var keyName))
            return Usage("--user and --name are required");
        DateTimeOffset? expires = null;
        if (options.TryGetValue("expires", out var expiresText))
        {
            if (!DateTimeOffset.TryParse(expiresText, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
                return Usage($"--expires '{expiresText}' is not a date");
            expires = parsed;
        }

        var builder = WebApplication.CreateSlimBuilder(configuration.ToArray());
        builder.Logging.ClearProviders();
        WebApplication app;
        try
        {
            builder.Services.AddRegistryCore().AddRegistryProviders(builder.Configuration);
            app = builder.Build();
            // Migrations and checks only: a command never sweeps, because a server may be running on the same data.
            await app.Services.InitializeRegistryDataAsync();
        }
        catch (Exception ex) when (StartupProblems.Describe(ex) is { } problem)
        {
            return StartupProblems.Report(problem);
        }

        await using var _ = app;
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>().FindByNameAsync(userName);
        if (user is null || user.Disabled)
        {
            await Console.Error.WriteLineAsync($"registry: there is no enabled user named '{userName}'.");
            return 1;
        }
        // Whoever can run this program can read the database: the command line acts for the user it names.
        var actor = Actor.ForUser(user, "local") with { Via = "cli" };
        var created = await scope.ServiceProvider.GetRequiredService<ApiKeyService>().CreateAsync(actor, null, new CreateKeyRequest
        {
            Name = keyName,
            Scopes = options.GetValueOrDefault("scopes", "read").Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(),
            ExpiresAt = expires,
        });
        if (!created.IsSuccess)
        {
            await Console.Error.WriteLineAsync($"registry: {created.Error!.Detail}");
            return 1;
        }
        Console.WriteLine(created.Value.Secret);
        return 0;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"registry: {problem}.");
        Console.Error.WriteLine("usage: Registry.Web apikey create --user <name> --name <key name> [--scopes read,write,promote] [--expires <date>]");
        return 2;
    }
}
