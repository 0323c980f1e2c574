using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Catalog;
using Registry.Core.Validation;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Support;

/// <summary>Steps of the promotion workflow, as a client takes them; and the validator, played by the test.</summary>
public static class Promotions
{
    /// <summary>
    /// Plays the validation worker for the oldest pending run (the validator is off in tests that
    /// are not about it) and reports this verdict, with <paramref name="p95Ms"/> as the measured latency.
    /// </summary>
    public static async Task<(string Model, int Version)> FinishNextValidationAsync(this RegistryApp app, double p95Ms = 2,
        ValidationStatus status = ValidationStatus.Passed)
    {
        var queue = app.Services.GetRequiredService<ValidationQueue>();
        var claim = await queue.TryClaimAsync("tests", CancellationToken.None)
            ?? throw new InvalidOperationException("no validation is pending");
        var outcome = status == ValidationStatus.Passed
            ? new ValidationOutcome(ValidationStatus.Passed, "Passed: every check succeeded.",
                [new CheckResult(CheckNames.Format, CheckStatus.Passed, "ok", 1)], new PerformanceFigures(3, p95Ms / 2, p95Ms, p95Ms * 1.5, 5, 1 << 20), "onnxruntime test")
            : new ValidationOutcome(status, "Failed smoke: boom",
                [new CheckResult(CheckNames.Smoke, CheckStatus.Failed, "The model failed to run.", 1)], null, "onnxruntime test");
        Assert.True(await queue.CompleteAsync(claim, outcome, CancellationToken.None));
        return (claim.Model, claim.Version);
    }

    /// <summary>Uploads a version and passes its validation; returns its number.</summary>
    public static async Task<int> UploadValidatedAsync(this RegistryApp app, HttpClient client, string model, byte[]? bytes = null,
        string? metadata = null, double p95Ms = 2)
    {
        var uploaded = await client.UploadAsync(model, bytes ?? OnnxModels.Identity(Guid.NewGuid().ToString("N")), metadata);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
        var version = (await uploaded.JsonAsync()).GetProperty("version").GetInt32();
        Assert.Equal((model, version), await app.FinishNextValidationAsync(p95Ms));
        return version;
    }

    public static Task<HttpResponseMessage> RequestPromotionAsync(this HttpClient client, string model, int version, string target, string? comment = null) =>
        client.PostAsync($"/api/v1/models/{Uri.EscapeDataString(model)}/versions/{version}/promotions",
            Json(JsonSerializer.Serialize(new { targetStage = target, comment })));

    /// <summary>Opens a request and asserts it was accepted (201); returns its body.</summary>
    public static async Task<JsonElement> RequestOkAsync(this HttpClient client, string model, int version, string target, string? comment = null)
    {
        var response = await client.RequestPromotionAsync(model, version, target, comment);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.JsonAsync();
    }

    /// <summary>approve, reject or cancel.</summary>
    public static Task<HttpResponseMessage> DecideAsync(this HttpClient client, long id, string decision, string? comment = null) =>
        client.PostAsync($"/api/v1/promotions/{id}/{decision}", Json(JsonSerializer.Serialize(new { comment })));

    public static async Task<JsonElement> DecideOkAsync(this HttpClient client, long id, string decision, string? comment = null)
    {
        var response = await client.DecideAsync(id, decision, comment);
        Assert.True(response.IsSuccessStatusCode, $"{decision} #{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.JsonAsync();
    }

    public static long Id(this JsonElement request) => request.GetProperty("id").GetInt64();

    public static string Status(this JsonElement request) => request.GetProperty("status").GetString()!;

    /// <summary>The stage each version of a model is in, by version number.</summary>
    public static async Task<Dictionary<int, string>> StagesAsync(this HttpClient client, string model)
    {
        var versions = await (await client.GetAsync($"/api/v1/models/{Uri.EscapeDataString(model)}/versions?pageSize=100")).JsonAsync();
        return versions.GetProperty("items").EnumerateArray()
            .ToDictionary(v => v.GetProperty("version").GetInt32(), v => v.GetProperty("stage").GetString()!);
    }

    public static JsonElement Gate(this JsonElement evaluated, string prefix) =>
        evaluated.GetProperty("gates").EnumerateArray().Single(g => g.GetProperty("gate").GetString()!.StartsWith(prefix, StringComparison.Ordinal));
}
