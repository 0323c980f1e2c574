using System.Net;
using Registry.Core.Access;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

/// <summary>Which walls a validation ran in is recorded with it, and the validator refuses to run without the configured ones.</summary>
public class SandboxIsolationTests
{
    private static async Task<System.Text.Json.JsonElement> ValidateOnAsync(RegistryApp app, string model)
    {
        var admin = await app.ClientAsAsync(Role.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.UploadAsync(model, OnnxModels.Identity(model))).StatusCode);
        return await Validations.WaitAsync(admin, model, 1);
    }

    [Fact]
    public async Task Without_bubblewrap_the_validator_refuses_to_run_saying_why_and_what_to_do()
    {
        var settings = Validations.Enabled();
        settings["Registry:Validation:BubblewrapPath"] = "/nonexistent/bwrap";
        await using var app = new RegistryApp(settings);

        var validation = await ValidateOnAsync(app, "unwalled");

        Assert.Equal("Failed", validation.GetProperty("status").GetString());
        var summary = validation.GetProperty("summary").GetString();
        Assert.Contains("bubblewrap is not installed (/nonexistent/bwrap)", summary);
        Assert.Contains("Registry:Validation:Isolation=Process", summary);
        // Nothing ran, so nothing claims to have been walled in.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, validation.GetProperty("isolation").ValueKind);
    }

    [Fact]
    public async Task A_run_without_namespaces_chosen_explicitly_says_so()
    {
        var settings = Validations.Enabled();
        settings["Registry:Validation:Isolation"] = "Process";
        await using var app = new RegistryApp(settings);

        var validation = await ValidateOnAsync(app, "process-only");

        Assert.Equal("Passed", validation.GetProperty("status").GetString());
        Assert.Equal("process (Registry:Validation:Isolation=Process)", validation.GetProperty("isolation").GetString());
    }
}
