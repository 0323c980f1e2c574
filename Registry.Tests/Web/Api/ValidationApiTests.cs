using System.Net;
using System.Text.Json;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

/// <summary>Uploads go through the real pipeline: the worker, the sandbox process, ONNX Runtime.</summary>
// The timeout is long enough that a memory bomb reaches the memory limit, and a killed sandbox is
// killed, before it runs out on a loaded machine; only the endless loop waits for it.
public class ValidationApiTests() : AppTests(new RegistryApp(Validations.Enabled(timeoutSeconds: 15, memoryMiB: 768)))
{
    private async Task<JsonElement> UploadAndWaitAsync(string model, byte[] bytes, string? metadata = null)
    {
        var response = await Admin.UploadAsync(model, bytes, metadata);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await Validations.WaitAsync(Admin, model, 1);
    }

    [Fact]
    public async Task A_sound_model_with_reference_data_passes_every_check_and_gets_latency_metrics()
    {
        var dir = Path.Combine(TestData.OnnxBackend, "node", "test_conv_with_strides_padding");
        var form = UploadRequests.Form(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        foreach (var (part, file) in new[] { ("reference_input", "input_0.pb"), ("reference_input", "input_1.pb"), ("reference_output", "output_0.pb") })
            form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(dir, "test_data_set_0", file))), part, file);
        Assert.Equal(HttpStatusCode.Created, (await Admin.PostAsync("/api/v1/models/conv/versions", form)).StatusCode);

        var validation = await Validations.WaitAsync(Admin, "conv", 1);

        Assert.Equal("Passed", validation.GetProperty("status").GetString());
        Assert.Equal(["format", "security", "load", "smoke", "finite", "golden", "performance"],
            validation.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.All(validation.GetProperty("checks").EnumerateArray(), c => Assert.Equal("Passed", c.GetProperty("status").GetString()));
        Assert.Contains("match the reference within rtol 0.001, atol 0.00001", Validations.MessageOf(validation, "golden"));
        Assert.StartsWith("onnxruntime 1.31.1", validation.GetProperty("runtime").GetString());
        Assert.StartsWith("namespaces (bubblewrap ", validation.GetProperty("isolation").GetString()); // the default walls
        Assert.True(validation.GetProperty("figures").GetProperty("p95Ms").GetDouble() > 0);

        var version = await (await Admin.GetAsync("/api/v1/models/conv/versions/1")).JsonAsync();
        Assert.Equal("Passed", version.GetProperty("validationStatus").GetString());
        var system = version.GetProperty("metrics").EnumerateArray().Where(m => m.GetProperty("system").GetBoolean())
            .Select(m => m.GetProperty("key").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "load_time_ms", "peak_rss_mb" }, system);
    }

    [Fact]
    public async Task A_model_that_gives_wrong_answers_fails_golden_naming_the_output()
    {
        var dir = Path.Combine(TestData.OnnxBackend, "node", "test_abs");
        var form = UploadRequests.Form(File.ReadAllBytes(Path.Combine(TestData.OnnxBackend, "node", "test_neg", "model.onnx")));
        form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(dir, "test_data_set_0", "input_0.pb"))), "reference_input", "in.pb");
        form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(dir, "test_data_set_0", "output_0.pb"))), "reference_output", "out.pb");
        Assert.Equal(HttpStatusCode.Created, (await Admin.PostAsync("/api/v1/models/neg-as-abs/versions", form)).StatusCode);

        var validation = await Validations.WaitAsync(Admin, "neg-as-abs", 1);

        Assert.Equal("Failed", validation.GetProperty("status").GetString());
        Assert.Equal("Failed", Validations.StatusOf(validation, "golden"));
        Assert.StartsWith("Output 'y' differs at element", Validations.MessageOf(validation, "golden"));
        Assert.StartsWith("Failed golden:", validation.GetProperty("summary").GetString());
        Assert.Equal("Passed", Validations.StatusOf(validation, "performance")); // wrong answers can still be timed
    }

    [Theory]
    [InlineData("../../etc/passwd", "outside the model's folder")]
    [InlineData("/etc/passwd", "absolute path")]
    [InlineData("_ORT_MEM_ADDR_", "process memory")]
    public async Task External_data_fails_security_before_onnx_runtime_sees_it(string location, string reason)
    {
        var validation = await UploadAndWaitAsync("external", AdversarialModels.ExternalData(location));
        Assert.Equal("Failed", Validations.StatusOf(validation, "security"));
        Assert.Contains(reason, Validations.MessageOf(validation, "security"));
        Assert.Equal("Skipped", Validations.StatusOf(validation, "load"));
    }

    [Fact]
    public async Task Adversarial_models_fail_for_their_own_reasons_while_the_server_keeps_answering()
    {
        var cases = new (string Name, byte[] Model, string Check, string Status, string Reason)[]
        {
            ("custom-domain", AdversarialModels.CustomDomainOperator(), "security", "Failed", "domain 'com.example', which is not allowed"),
            ("opset-99", AdversarialModels.Opset(99), "format", "Failed", "opset ai.onnx 99 is newer than onnxruntime"),
            ("huge-input", AdversarialModels.HugeInput(), "smoke", "Failed", "would need 10,000,000,000,000 elements"),
            ("needs-real-inputs", AdversarialModels.NeedsRealInputs(), "smoke", "Failed", "the model may need real inputs"),
            ("always-nan", AdversarialModels.AlwaysNaN(), "finite", "Warning", "output 'y' has 4 NaN"),
            ("endless-loop", AdversarialModels.Loop(1_000_000_000_000), "smoke", "Failed", "timed out after 15 s"),
            ("memory-bomb", AdversarialModels.ConstantOfShape(4, 1024, 1024, 1024), "", "Failed", "exceeded the memory limit of 768 MiB"),
        };
        foreach (var c in cases) (await Admin.UploadAsync(c.Name, c.Model)).EnsureSuccessStatusCode();

        // While sandboxes loop and blow up, the server still answers: each answer comes while some
        // validation is still unfinished (their statuses only move forward), so none waited for them.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync("/api/v1/models")).StatusCode);
            var statuses = new List<string?>();
            foreach (var c in cases)
                statuses.Add((await (await Admin.GetAsync($"/api/v1/models/{c.Name}/versions/1/validation")).JsonAsync()).GetProperty("status").GetString());
            Assert.True(statuses.Any(s => s is not ("Passed" or "Failed")), $"the answer came only once every validation had ended: {string.Join(", ", statuses)}");
            await Task.Delay(300);
        }

        foreach (var c in cases)
        {
            var validation = await Validations.WaitAsync(Admin, c.Name, 1);
            var check = c.Check.Length > 0
                ? Validations.Check(validation, c.Check)
                : validation.GetProperty("checks").EnumerateArray().First(x => x.GetProperty("status").GetString() == "Failed");
            Assert.True(c.Status == check.GetProperty("status").GetString(), $"{c.Name}: {validation}");
            Assert.Contains(c.Reason, check.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal(c.Status == "Warning" ? "Passed" : "Failed", validation.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task A_sandbox_killed_mid_run_is_a_failed_check_naming_the_signal()
    {
        // A registry of its own whose timeout cannot come first. A kill that lands before the sandbox
        // began a check is the server's problem (the job is tried again), not a verdict on the model:
        // each new sandbox of the job is killed later than the last, until one is killed mid-check.
        var settings = Validations.Enabled(timeoutSeconds: 300, memoryMiB: 768);
        settings["Registry:Validation:MaxAttempts"] = "10";
        await using var app = new RegistryApp(settings);
        var admin = app.CreateClient();
        (await admin.UploadAsync("killed", AdversarialModels.Loop(1_000_000_000_000))).EnsureSuccessStatusCode();
        var killed = new HashSet<int>();
        var delay = TimeSpan.FromMilliseconds(500);
        for (var round = 0; round < 9; round++)
        {
            int? sandbox = null;
            for (var i = 0; i < 1200 && sandbox is null; i++)
            {
                var status = (await (await admin.GetAsync("/api/v1/models/killed/versions/1/validation")).JsonAsync()).GetProperty("status").GetString();
                if (status is "Passed" or "Failed") break;
                sandbox = SandboxProcesses(app).Where(pid => !killed.Contains(pid)).Select(pid => (int?)pid).FirstOrDefault();
                if (sandbox is null) await Task.Delay(50);
            }
            if (sandbox is null) break; // the verdict is in
            await Task.Delay(delay); // into the smoke run, which never ends on its own
            killed.Add(sandbox.Value);
            try { System.Diagnostics.Process.GetProcessById(sandbox.Value).Kill(); }
            catch (ArgumentException) { } // it had already gone
            delay *= 2;
        }
        Assert.NotEmpty(killed); // never kill(0): that is the whole process group, so only found pids are killed

        var validation = await Validations.WaitAsync(admin, "killed", 1, TimeSpan.FromSeconds(300));

        Assert.Equal("Failed", validation.GetProperty("status").GetString());
        var failed = validation.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("status").GetString() == "Failed");
        Assert.True(failed.GetProperty("message").GetString()!.Contains("killed by signal 9 (SIGKILL)"), validation.ToString());
    }

    [Fact]
    public async Task Revalidation_queues_a_new_run_that_passes_again()
    {
        await UploadAndWaitAsync("again", OnnxModels.Linear());

        var queued = await Admin.PostAsync("/api/v1/models/again/versions/1/validation", null);

        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        Assert.Equal("/api/v1/models/again/versions/1/validation", queued.Headers.Location?.OriginalString);
        var second = await Validations.WaitAsync(Admin, "again", 1);
        Assert.True(second.GetProperty("run").GetInt64() > 1);
        Assert.Equal("Passed", second.GetProperty("status").GetString());
        await (await Admin.PostAsync("/api/v1/models/again/versions/9/validation", null)).ProblemAsync(404);
    }

    [Theory]
    [InlineData("too many", "at most 2 reference_input and reference_output parts")]
    [InlineData("too large", "may be at most 100,000 bytes")]
    public async Task Reference_parts_beyond_their_limits_are_refused_with_413_and_nothing_kept(string defect, string message)
    {
        await using var app = new RegistryApp(new Dictionary<string, string?>
        {
            ["Registry:Upload:MaxReferenceParts"] = "2",
            ["Registry:Upload:MaxReferenceBytes"] = "100000",
        });
        var client = app.CreateClient();
        var before = await app.SnapshotAsync();
        var form = UploadRequests.Form(OnnxModels.Linear(4, 2));
        var count = defect == "too many" ? 3 : 1;
        var size = defect == "too large" ? 200_000 : 100;
        for (var i = 0; i < count; i++) form.Add(new ByteArrayContent(new byte[size]), "reference_input", $"in{i}.pb");

        var problem = await (await client.PostAsync("/api/v1/models/limits/versions", form)).ProblemAsync(413);

        Assert.Contains(message, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await app.SnapshotAsync());
        Assert.Empty(app.TempFiles());
    }

    [Fact]
    public async Task Invalid_reference_data_is_refused_at_upload()
    {
        var before = await App.SnapshotAsync();
        var form = UploadRequests.Form(OnnxModels.Linear(4, 2));
        form.Add(new ByteArrayContent([1, 2, 3, 4]), "reference_input", "junk.pb");

        var problem = await (await Admin.PostAsync("/api/v1/models/refs/versions", form)).ProblemAsync(422);

        Assert.Contains("reference_input[0]", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await App.SnapshotAsync());
        Assert.Empty(App.TempFiles());
    }

    /// <summary>
    /// Sandboxes of this test's server: other tests' in-process servers share the parent process, so
    /// the sandbox's working folder (its HOME, under this app's data folder) tells them apart.
    /// </summary>
    private IEnumerable<int> SandboxProcesses(RegistryApp? app = null) =>
        ProcessTable.ChildrenRunning(Environment.ProcessId, "Registry.Sandbox.dll", $"HOME={(app ?? App).DataDirectory}");
}
