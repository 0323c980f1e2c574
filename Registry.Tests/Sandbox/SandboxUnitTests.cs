using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Validation;
using Registry.Sandbox;
using Registry.Tests.Support;

namespace Registry.Tests.Sandbox;

public class SandboxUnitTests
{
    private static bool Loads(byte[] model)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(model, options);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }

    private static byte[] Relu(long ir, long opset, string domain = "", long domainVersion = 0)
    {
        var graph = new GraphHeader { Name = "g" };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 2));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, 2));
        graph.Node.Add(OnnxModels.Node("Relu", ["x"], ["y"]));
        var model = OnnxModels.Model(graph, irVersion: ir, opset: opset);
        if (domain.Length > 0) model.OpsetImport.Add(new OperatorSetId { Domain = domain, Version = domainVersion });
        return model.ToByteArray();
    }

    /// <summary>The limits the format check quotes are those of the runtime that ships with the sandbox.</summary>
    [Fact]
    public void The_declared_runtime_limits_match_the_bundled_onnx_runtime()
    {
        var onnx = OrtSupport.MaxOpsets["ai.onnx"];
        var ml = OrtSupport.MaxOpsets["ai.onnx.ml"];
        Assert.True(Loads(Relu(OrtSupport.MaxIrVersion, onnx)), "the newest declared IR and opset should load");
        Assert.False(Loads(Relu(OrtSupport.MaxIrVersion + 1, onnx)), "one IR version past the declared limit should not load");
        Assert.False(Loads(Relu(OrtSupport.MaxIrVersion, onnx + 1)), "one ai.onnx opset past the declared limit should not load");
        Assert.True(Loads(Relu(OrtSupport.MaxIrVersion, onnx, "ai.onnx.ml", ml)));
        Assert.False(Loads(Relu(OrtSupport.MaxIrVersion, onnx, "ai.onnx.ml", ml + 1)));
        Assert.StartsWith("onnxruntime 1.", OrtSupport.Runtime);
    }

    private static TensorData Floats(params float[] values) =>
        TensorData.Create("y", ElementTypes.Float, [values.Length], values.SelectMany(BitConverter.GetBytes).ToArray());

    [Fact]
    public void Golden_comparison_uses_relative_and_absolute_tolerance()
    {
        var expected = Floats(1000f, 0f, float.NaN);
        Assert.Null(Checks.Compare(expected, Floats(1000.9f, 0.000009f, float.NaN), 1e-3, 1e-5).Mismatch);

        var off = Checks.Compare(expected, Floats(1001.1f, 0f, float.NaN), 1e-3, 1e-5);
        Assert.StartsWith("differs at element 0: 1001.1 instead of 1000", off.Mismatch);
        Assert.Equal(1.1, off.MaxAbs, 3);

        Assert.Contains("differs at element 2", Checks.Compare(expected, Floats(1000f, 0f, 1f), 1e-3, 1e-5).Mismatch);
        Assert.Contains("has shape [2]", Checks.Compare(expected, Floats(1f, 2f), 1e-3, 1e-5).Mismatch);
    }

    [Fact]
    public void Integer_outputs_must_match_exactly()
    {
        var expected = TensorData.Create("i", ElementTypes.Int64, [2], [.. BitConverter.GetBytes(5L), .. BitConverter.GetBytes(7L)]);
        var actual = TensorData.Create("i", ElementTypes.Int64, [2], [.. BitConverter.GetBytes(5L), .. BitConverter.GetBytes(8L)]);
        Assert.Equal("differs at element 1: 8 instead of 7", Checks.Compare(expected, actual, 1, 1).Mismatch);

        // 2^53 and 2^53 + 1 are the same double; as integers they differ.
        var big = TensorData.Create("i", ElementTypes.Int64, [1], BitConverter.GetBytes(9007199254740992L));
        var bigger = TensorData.Create("i", ElementTypes.Int64, [1], BitConverter.GetBytes(9007199254740993L));
        Assert.Equal("differs at element 0: 9007199254740993 instead of 9007199254740992", Checks.Compare(big, bigger, 1, 1).Mismatch);
    }

    [Fact]
    public void A_report_line_with_a_non_finite_figure_is_still_valid_json()
    {
        var check = new Registry.Core.Validation.CheckResult("golden", Registry.Core.Validation.CheckStatus.Failed, "shape differs", 1,
            new Dictionary<string, double> { ["y.maxAbsError"] = double.NaN });
        var json = System.Text.Json.JsonSerializer.Serialize(new Registry.Core.Validation.SandboxMessage("check", Check: check), Registry.Core.Validation.SandboxMessage.Json);
        var back = System.Text.Json.JsonSerializer.Deserialize<Registry.Core.Validation.SandboxMessage>(json, Registry.Core.Validation.SandboxMessage.Json)!;
        Assert.True(double.IsNaN(back.Check!.Figures!["y.maxAbsError"]));
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
        Assert.Equal(10, Checks.Percentile(sorted, 50));
        Assert.Equal(19, Checks.Percentile(sorted, 95));
        Assert.Equal(20, Checks.Percentile(sorted, 99));
        Assert.Null(Checks.Percentile([], 50));
    }

    [Fact]
    public void Runtime_messages_lose_the_source_location_but_keep_the_code()
    {
        const string raw = "[ErrorCode:Fail] /onnxruntime_src/onnxruntime/core/graph/model.cc:256 onnxruntime::Model::Model(onnx::ModelProto&&) Unknown model file format version.";
        Assert.Equal("[ErrorCode:Fail] Unknown model file format version.", Checks.RuntimeMessage(raw));
        const string rnn = "[ErrorCode:Fail] Exception during initialization: /onnxruntime_src/onnxruntime/core/providers/cpu/rnn/rnn.h:48 onnxruntime::RNN<T>::RNN(const onnxruntime::OpKernelInfo&) [with T = float] layout_ == 0 was false. Batchwise recurrent operations (layout == 1) are not supported.";
        Assert.Equal("[ErrorCode:Fail] Exception during initialization: layout_ == 0 was false. Batchwise recurrent operations (layout == 1) are not supported.", Checks.RuntimeMessage(rnn));
    }

    [Fact]
    public void Tiny_differences_are_written_so_that_they_do_not_read_as_zero()
    {
        Assert.Equal("3.1e-5", Checks.Num(0.000031));
        Assert.Equal("0.479", Checks.Num(0.4791));
        Assert.Equal("0", Checks.Num(0));
    }

    [Fact]
    public void Half_precision_outputs_are_allowed_one_unit_in_the_last_place()
    {
        static TensorData Bf16(ushort bits) => TensorData.Create("y", ElementTypes.BFloat16, [1], BitConverter.GetBytes(bits));
        // 0x3EF5 and 0x3EF6 (0.4785 and 0.4805) are neighbouring bfloat16 values: a rounding-mode
        // difference, not an error. Two steps apart is.
        Assert.Null(Checks.Compare(Bf16(0x3EF5), Bf16(0x3EF6), 1e-3, 1e-5).Mismatch);
        Assert.NotNull(Checks.Compare(Bf16(0x3EF5), Bf16(0x3EF8), 1e-3, 1e-5).Mismatch);
    }

    private static SandboxJob Job(string modelPath, int runs, int minRuns, double budgetSeconds, double timeoutSeconds = 20) => new(
        modelPath, [], [], null,
        new ValidationOptions { PerformanceRuns = runs, PerformanceMinRuns = minRuns, PerformanceBudgetSeconds = budgetSeconds, TimeoutSeconds = timeoutSeconds }.ToLimits());

    /// <summary>Runs load, smoke and performance in-process, as the sandbox does, on a clock that started <paramref name="sandboxAge"/> ago.</summary>
    private static (PerformanceFigures Figures, CheckResult Check) Timed(byte[] model, SandboxJob job, TimeSpan sandboxAge)
    {
        var path = Path.Combine(Path.GetTempPath(), $"registry-perf-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        try
        {
            var (format, header) = StaticChecks.Format(path, OrtSupport.Current);
            Assert.Equal(CheckStatus.Passed, format.Status);
            var report = new Reporter(TextWriter.Null);
            var startedAt = TimeProvider.System.GetTimestamp() - (long)(sandboxAge.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            using var checks = new Checks(job with { ModelPath = path }, header!, report, TimeProvider.System, startedAt);
            Assert.True(checks.Load());
            Assert.NotNull(checks.Smoke());
            var figures = checks.Performance();
            return (figures, report.Checks.Single(c => c.Name == CheckNames.Performance));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// On a loaded machine the budget can be spent, and the timeout nearly reached, before the first
    /// timed run. The check must still time its minimum number of runs: a pass without figures is
    /// what the version page showed as "Passed" with p95 "—".
    /// </summary>
    [Fact]
    public void The_performance_check_times_its_minimum_runs_even_when_the_budget_and_the_time_left_are_spent()
    {
        var job = Job("", runs: 5, minRuns: 3, budgetSeconds: 0, timeoutSeconds: 20);
        var (figures, check) = Timed(OnnxModels.Identity(), job, sandboxAge: TimeSpan.FromMinutes(10));

        Assert.Equal(CheckStatus.Passed, check.Status);
        Assert.Equal(3, figures.Runs);
        Assert.NotNull(figures.P50Ms);
        Assert.NotNull(figures.P95Ms);
        Assert.NotNull(figures.P99Ms);
        Assert.Equal(3, check.Figures!["runs"]);
        Assert.StartsWith("3 timed runs (the 0 s budget allowed 3 of 5 runs)", check.Message);
    }

    [Fact]
    public void The_budget_and_the_timeout_only_cap_the_runs_beyond_the_minimum()
    {
        var plenty = Timed(OnnxModels.Identity(), Job("", runs: 7, minRuns: 2, budgetSeconds: 60, timeoutSeconds: 600), TimeSpan.Zero);
        Assert.Equal(7, plenty.Figures.Runs);
        Assert.StartsWith("7 timed runs:", plenty.Check.Message);

        // The timeout is 10 s away, but the sandbox has already used it up: no run beyond the minimum starts.
        var late = Timed(OnnxModels.Identity(), Job("", runs: 7, minRuns: 2, budgetSeconds: 60, timeoutSeconds: 10), TimeSpan.FromSeconds(30));
        Assert.Equal(2, late.Figures.Runs);
        Assert.StartsWith("2 timed runs (the 10 s limit left time for 2 of 7 runs)", late.Check.Message);

        // Asked for none, it still times one: a passed check always has figures.
        var none = Timed(OnnxModels.Identity(), Job("", runs: 0, minRuns: 0, budgetSeconds: 0), TimeSpan.Zero);
        Assert.Equal(1, none.Figures.Runs);
        Assert.NotNull(none.Figures.P95Ms);
    }

    private static System.Diagnostics.Process StartSandbox(int parent)
    {
        var info = new System.Diagnostics.ProcessStartInfo(ServerProcess.DotnetHost(),
            [Path.Combine(AppContext.BaseDirectory, "Registry.Sandbox.dll"), "--parent", parent.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return System.Diagnostics.Process.Start(info)!;
    }

    /// <summary>
    /// A server killed between starting its sandbox and the sandbox's first look at its parent leaves
    /// the sandbox with a new parent. It must stop rather than wait, unwatched, for a job that never comes.
    /// </summary>
    [Fact]
    public async Task A_sandbox_whose_server_is_already_gone_stops_at_once()
    {
        using var orphan = StartSandbox(parent: 1); // not its parent: as if the server had died first
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await orphan.WaitForExitAsync(timeout.Token); // standard input stays open: it never gets a job
        }
        finally
        {
            orphan.Kill();
        }
        Assert.Equal(3, orphan.ExitCode);

        // With its real parent it goes on to read the job (here: not JSON, so it says so).
        using var watched = StartSandbox(Environment.ProcessId);
        await watched.StandardInput.WriteAsync("not json");
        watched.StandardInput.Close();
        var error = await watched.StandardError.ReadToEndAsync(timeout.Token);
        await watched.WaitForExitAsync(timeout.Token);
        Assert.Equal((2, true), (watched.ExitCode, error.Contains("not valid JSON", StringComparison.Ordinal)));
    }
}
