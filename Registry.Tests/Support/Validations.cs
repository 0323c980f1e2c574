using System.Net.Http.Json;
using System.Text.Json;

namespace Registry.Tests.Support;

public static class Validations
{
    /// <summary>Settings for an app whose validator runs, with limits small enough for tests.</summary>
    public static Dictionary<string, string?> Enabled(double timeoutSeconds = 20, long memoryMiB = 1024, int concurrency = 2) => new()
    {
        ["Registry:Validation:Enabled"] = "true",
        ["Registry:Validation:Concurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Registry:Validation:TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Registry:Validation:MemoryLimitMiB"] = memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Registry:Validation:PollSeconds"] = "0.2",
        ["Registry:Validation:PerformanceRuns"] = "5",
        ["Registry:Validation:PerformanceBudgetSeconds"] = "1",
    };

    /// <summary>Polls the validation of a version until it is Passed or Failed.</summary>
    public static async Task<JsonElement> WaitAsync(HttpClient client, string model, int version, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(180)); // a bound for loaded machines, not an expectation
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            var response = await client.GetAsync($"/api/v1/models/{Uri.EscapeDataString(model)}/versions/{version}/validation");
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (last.GetProperty("status").GetString() is "Passed" or "Failed") return last;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{model} v{version} was not validated in time; last seen: {last}");
    }

    public static JsonElement Check(JsonElement validation, string name) =>
        validation.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static string StatusOf(JsonElement validation, string check) => Check(validation, check).GetProperty("status").GetString()!;

    public static string MessageOf(JsonElement validation, string check) => Check(validation, check).GetProperty("message").GetString()!;
}
