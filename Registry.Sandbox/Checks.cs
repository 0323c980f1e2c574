using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Validation;

namespace Registry.Sandbox;

/// <summary>The checks that need ONNX Runtime: load, smoke, finite, golden and performance.</summary>
/// <param name="clock">The clock of the performance budget and of the time left before the timeout.</param>
/// <param name="startedAt">When the sandbox started, as a timestamp of <paramref name="clock"/>: its timeout runs from then.</param>
internal sealed partial class Checks(SandboxJob job, ModelHeader header, Reporter report, TimeProvider clock, long startedAt) : IDisposable
{
    private readonly ModelSignature _signature = OnnxHeaderReader.SignatureOf(header);
    private InferenceSession? _session;
    private string[] _inputNames = [];
    private OrtValue[] _inputs = [];
    private string[] _outputNames = [];
    private double _loadMs;
    private double _smokeRunMs;

    /// <summary>Numbers as a person reads them: three decimals, or scientific notation for tiny ones (so 3e-05 is not "0").</summary>
    internal static string Num(double v) => v != 0 && Math.Abs(v) < 0.001
        ? v.ToString("0.###e+0", CultureInfo.InvariantCulture)
        : v.ToString("0.###", CultureInfo.InvariantCulture);

    public bool Load()
    {
        report.Stage(CheckNames.Load);
        var clock = Stopwatch.StartNew();
        try
        {
            var options = new SessionOptions
            {
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                IntraOpNumThreads = Math.Max(1, job.Limits.IntraOpThreads),
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            _session = new InferenceSession(job.ModelPath, options);
            _loadMs = clock.Elapsed.TotalMilliseconds;
            _outputNames = _session.OutputNames.ToArray();
            report.Check(new CheckResult(CheckNames.Load, CheckStatus.Passed,
                $"ONNX Runtime ({OrtSupport.Runtime}, CPU) loaded the model in {Num(_loadMs)} ms.", _loadMs,
                new Dictionary<string, double> { ["loadMs"] = Math.Round(_loadMs, 3) }));
            return true;
        }
        catch (OnnxRuntimeException ex)
        {
            report.Check(new CheckResult(CheckNames.Load, CheckStatus.Failed,
                $"ONNX Runtime could not load the model: {RuntimeMessage(ex)}", clock.Elapsed.TotalMilliseconds));
            return false;
        }
    }

    /// <summary>Runs the model once on reference or synthesized inputs; returns its outputs, or null when it failed.</summary>
    public IReadOnlyList<TensorData?>? Smoke()
    {
        report.Stage(CheckNames.Smoke);
        var clock = Stopwatch.StartNew();
        var synthesized = job.ReferenceInputs.Count == 0;
        var prepared = synthesized ? SynthesizeInputs() : LoadReferenceInputs();
        if (prepared is { } problem)
        {
            report.Check(new CheckResult(CheckNames.Smoke, CheckStatus.Failed, problem, clock.Elapsed.TotalMilliseconds));
            return null;
        }

        try
        {
            var run = Stopwatch.StartNew();
            using var results = _session!.Run(new RunOptions(), _inputNames, _inputs, _outputNames);
            _smokeRunMs = run.Elapsed.TotalMilliseconds;
            var outputs = results.Select((value, i) => Tensors.FromOrtValue(_outputNames[i], value)).ToList();
            var shapeProblems = CheckOutputShapes(outputs);
            var source = synthesized ? "synthesized inputs" : "the reference inputs";
            report.Check(shapeProblems is null
                ? new CheckResult(CheckNames.Smoke, CheckStatus.Passed,
                    $"Ran on {source} ({Describe(_inputNames, _inputs)}) and produced every declared output ({DescribeOutputs(outputs)}).",
                    clock.Elapsed.TotalMilliseconds)
                : new CheckResult(CheckNames.Smoke, CheckStatus.Failed, shapeProblems, clock.Elapsed.TotalMilliseconds));
            return shapeProblems is null ? outputs : null;
        }
        catch (OnnxRuntimeException ex)
        {
            var advice = synthesized
                ? " The inputs were synthesized (symbolic dimensions set to 1, floats from [0, 1), integers 0, booleans false), so the model may need real inputs: upload reference_input parts (serialized TensorProto, one per graph input) or declare metadata.smokeTestShapes."
                : "";
            report.Check(new CheckResult(CheckNames.Smoke, CheckStatus.Failed, IsOutOfMemory(ex)
                ? $"The smoke check exceeded the memory limit of {job.Limits.MemoryLimitMiB} MiB: the kernel refused the model an allocation, and it stopped. "
                    + "The model needs more memory than validation allows on these inputs: declare smaller metadata.smokeTestShapes, or an operator may raise Registry:Validation:MemoryLimitMiB."
                : $"The model failed to run: {RuntimeMessage(ex)}.{advice}", clock.Elapsed.TotalMilliseconds));
            return null;
        }
    }

    public void Finite(IReadOnlyList<TensorData?> outputs)
    {
        report.Stage(CheckNames.Finite);
        var clock = Stopwatch.StartNew();
        var problems = new List<string>();
        foreach (var output in outputs.OfType<TensorData>().Where(o => ElementTypes.IsFloatingPoint(o.DataType)))
        {
            long nan = 0, infinite = 0;
            for (long i = 0; i < output.ElementCount; i++)
            {
                var v = output.GetDouble(i);
                if (double.IsNaN(v)) nan++;
                else if (double.IsInfinity(v)) infinite++;
            }
            if (nan + infinite > 0)
                problems.Add($"output '{output.Name}' has {nan:N0} NaN and {infinite:N0} infinite values among {output.ElementCount:N0}");
        }
        report.Check(problems.Count == 0
            ? new CheckResult(CheckNames.Finite, CheckStatus.Passed, "Every floating-point output value is finite.", clock.Elapsed.TotalMilliseconds)
            : new CheckResult(CheckNames.Finite, CheckStatus.Warning, string.Join("; ", problems) + ".", clock.Elapsed.TotalMilliseconds));
    }

    public void Golden(IReadOnlyList<TensorData?> outputs)
    {
        report.Stage(CheckNames.Golden);
        var clock = Stopwatch.StartNew();
        if (job.ReferenceOutputs.Count == 0)
        {
            report.Check(new CheckResult(CheckNames.Golden, CheckStatus.Skipped,
                "No reference outputs were uploaded; send reference_input and reference_output parts to compare against known results.", 0));
            return;
        }

        var figures = new Dictionary<string, double>();
        string? firstMismatch = null;
        foreach (var file in job.ReferenceOutputs)
        {
            var expected = TensorData.Parse(File.ReadAllBytes(file.Path), $"reference output '{file.Name}'");
            var index = Array.IndexOf(_outputNames, file.Name);
            if (!expected.IsSuccess || index < 0 || outputs[index] is not { } actual)
            {
                firstMismatch ??= index < 0 ? $"output '{file.Name}' was not produced" : expected.Error?.Detail ?? $"output '{file.Name}' is not a tensor";
                continue;
            }
            var comparison = Compare(expected.Value, actual, job.Limits.RelativeTolerance, job.Limits.AbsoluteTolerance);
            if (double.IsFinite(comparison.MaxAbs)) figures[$"{file.Name}.maxAbsError"] = comparison.MaxAbs;
            if (double.IsFinite(comparison.MaxRel)) figures[$"{file.Name}.maxRelError"] = comparison.MaxRel;
            if (comparison.Mismatch is { } mismatch) firstMismatch ??= $"output '{file.Name}' {mismatch}";
        }
        var tolerance = $"rtol {job.Limits.RelativeTolerance.ToString("0.##########", CultureInfo.InvariantCulture)}, atol {job.Limits.AbsoluteTolerance.ToString("0.##########", CultureInfo.InvariantCulture)}";
        report.Check(firstMismatch is null
            ? new CheckResult(CheckNames.Golden, CheckStatus.Passed,
                $"{job.ReferenceOutputs.Count} output(s) match the reference within {tolerance} (largest absolute error {Num(figures.Where(f => f.Key.EndsWith(".maxAbsError", StringComparison.Ordinal)).Select(f => f.Value).DefaultIfEmpty(0).Max())}).",
                clock.Elapsed.TotalMilliseconds, figures)
            : new CheckResult(CheckNames.Golden, CheckStatus.Failed, $"{Capitalize(firstMismatch)} (tolerance {tolerance}).", clock.Elapsed.TotalMilliseconds, figures));
    }

    public PerformanceFigures Performance()
    {
        report.Stage(CheckNames.Performance);
        var began = clock.GetTimestamp();
        var budget = TimeSpan.FromSeconds(job.Limits.PerformanceBudgetSeconds);
        // The minimum is made whatever the budget or the load of the machine: a check that passes
        // must have figures. Only the sandbox's timeout bounds it (a model too slow to be timed that
        // often fails here, killed, rather than passing unmeasured).
        var minimum = Math.Clamp(job.Limits.PerformanceMinRuns, 1, Math.Max(1, job.Limits.PerformanceRuns));
        var wanted = Math.Max(minimum, job.Limits.PerformanceRuns);
        // Runs beyond the minimum never start when they would carry the sandbox past its timeout.
        var deadline = TimeSpan.FromSeconds(job.Limits.TimeoutSeconds) - TimeSpan.FromSeconds(2);
        var times = new List<double>();
        using var runOptions = new RunOptions();
        var last = _smokeRunMs;
        string? stoppedBy = null;
        // The smoke run was the warm-up.
        while (times.Count < wanted)
        {
            if (times.Count >= minimum)
            {
                if (clock.GetElapsedTime(began) >= budget) stoppedBy = "budget";
                else if (clock.GetElapsedTime(startedAt) + TimeSpan.FromMilliseconds(last * 1.5) >= deadline) stoppedBy = "timeout";
                if (stoppedBy is not null) break;
            }
            var run = Stopwatch.StartNew();
            using var results = _session!.Run(runOptions, _inputNames, _inputs, _outputNames);
            last = run.Elapsed.TotalMilliseconds;
            times.Add(last);
        }
        times.Sort();
        var figures = new PerformanceFigures(Math.Round(_loadMs, 3), Percentile(times, 50), Percentile(times, 95), Percentile(times, 99), times.Count, ParentWatch.PeakRssBytes());
        var note = stoppedBy switch
        {
            "budget" => $" (the {Num(job.Limits.PerformanceBudgetSeconds)} s budget allowed {times.Count} of {wanted} runs)",
            "timeout" => $" (the {Num(job.Limits.TimeoutSeconds)} s limit left time for {times.Count} of {wanted} runs)",
            _ => "",
        };
        report.Check(new CheckResult(CheckNames.Performance, CheckStatus.Passed,
            $"{times.Count} timed runs{note}: p50 {Num(figures.P50Ms ?? 0)} ms, p95 {Num(figures.P95Ms ?? 0)} ms, p99 {Num(figures.P99Ms ?? 0)} ms; load {Num(_loadMs)} ms; peak memory {figures.PeakRssBytes / (1024 * 1024)} MiB.",
            clock.GetElapsedTime(began).TotalMilliseconds,
            new Dictionary<string, double> { ["p50Ms"] = figures.P50Ms ?? 0, ["p95Ms"] = figures.P95Ms ?? 0, ["p99Ms"] = figures.P99Ms ?? 0, ["runs"] = times.Count }));
        return figures;
    }

    /// <summary>Nearest-rank percentile of sorted values, rounded to microseconds.</summary>
    internal static double? Percentile(IReadOnlyList<double> sorted, int p) =>
        sorted.Count == 0 ? null : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)], 3);

    private string? SynthesizeInputs()
    {
        var random = new Random(20261128);
        var names = new List<string>();
        var values = new List<OrtValue>();
        foreach (var input in _signature.Inputs)
        {
            if (input.ElementType is null || input.Shape is null || !input.Type.StartsWith("tensor(", StringComparison.Ordinal))
                return $"Input '{input.Name}' is {input.Type}{(input.Shape is null && input.ElementType is not null ? " of unknown rank" : "")}, which the smoke test cannot synthesize. Upload reference_input parts for this model.";
            var declared = job.SmokeTestShapes?.GetValueOrDefault(input.Name);
            var shape = declared ?? input.Shape.Select(d => d.Value ?? 1).ToArray();
            var count = OnnxHeaderReader.ElementCount(shape);
            if (count > job.Limits.MaxInputElements)
                return $"Input '{input.Name}' of shape [{string.Join(", ", shape)}] would need {count:N0} elements, more than the limit of {job.Limits.MaxInputElements:N0}; nothing was allocated. Declare smaller metadata.smokeTestShapes or upload reference inputs.";
            var type = ElementTypeCode(input.ElementType);
            names.Add(input.Name);
            values.Add(Tensors.Synthesize(type, shape, random));
        }
        _inputNames = names.ToArray();
        _inputs = values.ToArray();
        return null;
    }

    private string? LoadReferenceInputs()
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        foreach (var file in job.ReferenceInputs)
        {
            var tensor = TensorData.Parse(File.ReadAllBytes(file.Path), $"Reference input '{file.Name}'");
            if (!tensor.IsSuccess) return tensor.Error!.Detail;
            var spec = _signature.Inputs.FirstOrDefault(i => i.Name == file.Name);
            // ONNX's test generator stores bfloat16 as uint16 bit patterns: same bytes, declared type wins.
            var asType = spec?.ElementType is { } declared ? ElementTypeCode(declared) : tensor.Value.DataType;
            names.Add(file.Name);
            values.Add(Tensors.ToOrtValue(tensor.Value, asType));
        }
        _inputNames = names.ToArray();
        _inputs = values.ToArray();
        return null;
    }

    private string? CheckOutputShapes(IReadOnlyList<TensorData?> outputs)
    {
        foreach (var spec in _signature.Outputs)
        {
            var index = Array.IndexOf(_outputNames, spec.Name);
            if (index < 0) return $"The model did not produce its declared output '{spec.Name}'.";
            if (outputs[index] is not { } actual || spec.Shape is null) continue;
            if (spec.Shape.Count != actual.Dims.Length)
                return $"Output '{spec.Name}' came out with shape [{string.Join(", ", actual.Dims)}], but the model declares rank {spec.Shape.Count} ({spec.ShapeText}).";
            for (var d = 0; d < spec.Shape.Count; d++)
                if (spec.Shape[d].Value is { } fixedSize && fixedSize != actual.Dims[d])
                    return $"Output '{spec.Name}' came out with shape [{string.Join(", ", actual.Dims)}], but the model fixes dimension {d} at {fixedSize} ({spec.ShapeText}).";
        }
        return null;
    }

    internal sealed record Comparison(double MaxAbs, double MaxRel, string? Mismatch);

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| for floating types (NaN matches NaN); exact for the rest.</summary>
    internal static Comparison Compare(TensorData expected, TensorData actual, double rtol, double atol)
    {
        if (!expected.Dims.SequenceEqual(actual.Dims))
            return new(double.NaN, double.NaN, $"has shape [{string.Join(", ", actual.Dims)}], the reference [{string.Join(", ", expected.Dims)}]");
        if (expected.DataType == ElementTypes.UInt16 && actual.DataType == ElementTypes.BFloat16) expected = expected.Reinterpret(ElementTypes.BFloat16);
        if (expected.DataType != actual.DataType)
            return new(double.NaN, double.NaN, $"is {ElementTypes.Name(actual.DataType)}, the reference {ElementTypes.Name(expected.DataType)}");
        if (expected.Strings is not null)
        {
            for (var i = 0; i < expected.Strings.Length; i++)
                if (expected.Strings[i] != actual.Strings![i])
                    return new(0, 0, $"differs at element {i}: \"{actual.Strings[i]}\" instead of \"{expected.Strings[i]}\"");
            return new(0, 0, null);
        }
        if (ElementTypes.BitsPerElement(expected.DataType) < 8 || expected.DataType is 14 or 15 or 17 or 18 or 19 or 20 or 24)
            return expected.Bytes.AsSpan().SequenceEqual(actual.Bytes) ? new(0, 0, null) : new(double.NaN, double.NaN, "differs from the reference byte for byte");

        var floating = ElementTypes.IsFloatingPoint(expected.DataType);
        if (!floating)
        {
            // Integers and booleans must match exactly; comparing bytes keeps 64-bit values exact.
            for (long i = 0; i < expected.ElementCount; i++)
                if (!expected.SameElement(actual, i))
                    return new(Math.Abs(actual.GetDouble(i) - expected.GetDouble(i)), double.NaN,
                        $"differs at element {i}: {actual.FormatElement(i)} instead of {expected.FormatElement(i)}");
            return new(0, 0, null);
        }
        // A relative tolerance finer than the type can represent would fail on rounding alone:
        // float16 and bfloat16 results are allowed at least one unit in the last place.
        rtol = expected.DataType switch
        {
            ElementTypes.Float16 => Math.Max(rtol, Math.Pow(2, -10)),
            ElementTypes.BFloat16 => Math.Max(rtol, Math.Pow(2, -7)),
            _ => rtol,
        };
        double maxAbs = 0, maxRel = 0;
        string? mismatch = null;
        for (long i = 0; i < expected.ElementCount; i++)
        {
            double e = expected.GetDouble(i), a = actual.GetDouble(i);
            if (double.IsNaN(e) || double.IsNaN(a) || double.IsInfinity(e) || double.IsInfinity(a))
            {
                if (!(double.IsNaN(e) && double.IsNaN(a)) && !e.Equals(a))
                    mismatch ??= $"differs at element {i}: {Num(a)} instead of {Num(e)}";
                continue;
            }
            var abs = Math.Abs(a - e);
            maxAbs = Math.Max(maxAbs, abs);
            if (e != 0) maxRel = Math.Max(maxRel, abs / Math.Abs(e));
            var allowed = atol + rtol * Math.Abs(e);
            if (abs > allowed) mismatch ??= $"differs at element {i}: {Num(a)} instead of {Num(e)} (|difference| {Num(abs)} > {Num(allowed)})";
        }
        return new(maxAbs, maxRel, mismatch);
    }

    private static int ElementTypeCode(string name)
    {
        for (var code = 1; code < 32; code++)
            if (ElementTypes.Name(code) == name) return code;
        throw new ArgumentException($"unknown element type {name}", nameof(name));
    }

    private static string Describe(string[] names, OrtValue[] values) => string.Join(", ", names.Select((n, i) =>
    {
        var info = values[i].GetTensorTypeAndShape();
        return $"{n} [{string.Join(", ", info.Shape)}]";
    }));

    private static string DescribeOutputs(IReadOnlyList<TensorData?> outputs) => string.Join(", ", outputs.Select(o =>
        o is null ? "a non-tensor value" : $"{o.Name} [{string.Join(", ", o.Dims)}]"));

    /// <summary>ORT's message without the source location it prefixes to it.</summary>
    internal static string RuntimeMessage(OnnxRuntimeException ex) => RuntimeMessage(ex.Message);

    /// <summary>ONNX Runtime's words for an allocation that failed, as it does once the kernel's memory limit is reached.</summary>
    private bool IsOutOfMemory(OnnxRuntimeException ex) => job.Limits.MemoryLimitMiB > 0
        && (ex.Message.Contains("bad_alloc", StringComparison.Ordinal) || ex.Message.Contains("Failed to allocate", StringComparison.OrdinalIgnoreCase));

    internal static string RuntimeMessage(string raw)
    {
        // "[ErrorCode:Fail] /onnxruntime_src/…/model.cc:256 onnxruntime::Model::Model(…) Unknown model file format version."
        // The source locations and C++ signatures mean nothing to the person reading the verdict.
        var message = SourceLocation().Replace(raw.Trim(), "");
        message = CppSignature().Replace(message, "");
        message = TemplateNoise().Replace(message, "");
        return string.Join(' ', message.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/onnxruntime_src/\S+:\d+\s*")]
    private static partial System.Text.RegularExpressions.Regex SourceLocation();

    [System.Text.RegularExpressions.GeneratedRegex(@"\[with \w+ = [^\]]*\]\s*|::<lambda\(\)>\s*")]
    private static partial System.Text.RegularExpressions.Regex TemplateNoise();

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(?:onnxruntime|onnx)::[\w:<>~]+\((?:[^()]|\([^()]*\))*\)\s*(?:const\s*)?")]
    private static partial System.Text.RegularExpressions.Regex CppSignature();

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpper(s[0], CultureInfo.InvariantCulture) + s[1..];

    public void Dispose()
    {
        foreach (var input in _inputs) input.Dispose();
        _session?.Dispose();
    }
}
