using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

/// <summary>
/// What a user reads off a passed validation: its latency figures, whatever the load of the machine.
/// The budget here is spent before the first timed run, as it is on a loaded machine.
/// </summary>
public class ValidationFiguresTests() : AppTests(new RegistryApp(new Dictionary<string, string?>(Validations.Enabled())
{
    ["Registry:Validation:PerformanceBudgetSeconds"] = "0",
    ["Registry:Validation:PerformanceRuns"] = "5",
    ["Registry:Validation:PerformanceMinRuns"] = "3",
}))
{
    [Fact]
    public async Task A_passed_validation_has_its_latency_figures_even_when_the_time_budget_is_spent()
    {
        (await Admin.UploadAsync("budgetless", OnnxModels.Identity())).EnsureSuccessStatusCode();

        var validation = await Validations.WaitAsync(Admin, "budgetless", 1);

        Assert.Equal("Passed", validation.GetProperty("status").GetString());
        Assert.Equal("Passed", Validations.StatusOf(validation, "performance"));
        Assert.StartsWith("3 timed runs", Validations.MessageOf(validation, "performance"));
        var figures = validation.GetProperty("figures");
        Assert.Equal(3, figures.GetProperty("runs").GetInt32());
        foreach (var figure in new[] { "p50Ms", "p95Ms", "p99Ms" })
            Assert.True(figures.GetProperty(figure).ValueKind == System.Text.Json.JsonValueKind.Number, $"{figure} is missing: {figures}");

        // The version shows the same figures as metrics, written in the same transaction as the status.
        var version = await (await Admin.GetAsync("/api/v1/models/budgetless/versions/1")).JsonAsync();
        Assert.Equal("Passed", version.GetProperty("validationStatus").GetString());
        Assert.Contains("latency_p95_ms", version.GetProperty("metrics").EnumerateArray()
            .Where(m => m.GetProperty("system").GetBoolean()).Select(m => m.GetProperty("key").GetString()));
    }
}
