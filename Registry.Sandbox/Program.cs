using System.Text.Json;
using Registry.Core.Validation;

namespace Registry.Sandbox;

// Registry.Sandbox: validates one untrusted ONNX model. It reads a SandboxJob (JSON) on standard
// input, runs the checks in order and writes newline-delimited SandboxMessage JSON on standard
// output. It never opens the registry's database; it sees only the files named in the job.
internal static class SandboxProgram
{
    public static int Main(string[] args)
    {
        var startedAt = TimeProvider.System.GetTimestamp(); // the sandbox's timeout is measured from here
        ParentWatch.Start(ParentWatch.ExpectedParent(args));
        var report = new Reporter(Console.Out);
        SandboxJob? job;
        try
        {
            job = JsonSerializer.Deserialize<SandboxJob>(Console.In.ReadToEnd(), SandboxMessage.Json);
        }
        catch (JsonException ex)
        {
            Console.Error.WriteLine($"sandbox: the job on standard input is not valid JSON: {ex.Message}");
            return 2;
        }
        if (job is null)
        {
            Console.Error.WriteLine("sandbox: no job on standard input");
            return 2;
        }

        var runtime = OrtSupport.Runtime;
        report.Stage(CheckNames.Format);
        var (format, header) = StaticChecks.Format(job.ModelPath, OrtSupport.Current);
        report.Check(format);
        if (format.Status == CheckStatus.Failed)
        {
            report.SkipRest("Not run: the format check failed.");
            report.Done(runtime);
            return 0;
        }

        report.Stage(CheckNames.Security);
        var security = StaticChecks.Security(header!, job.Limits);
        report.Check(security);
        if (security.Status == CheckStatus.Failed)
        {
            report.SkipRest("Not run: the security check failed, so ONNX Runtime was not given the file.");
            report.Done(runtime);
            return 0;
        }

        using var checks = new Checks(job, header!, report, TimeProvider.System, startedAt);
        if (!checks.Load())
        {
            report.SkipRest("Not run: the model did not load.");
            report.Done(runtime);
            return 0;
        }

        var outputs = checks.Smoke();
        if (outputs is null)
        {
            report.SkipRest("Not run: the smoke run failed.");
            report.Done(runtime);
            return 0;
        }
        checks.Finite(outputs);
        checks.Golden(outputs);
        var figures = checks.Performance();
        report.Figures(figures, runtime);
        report.Done(runtime);
        return 0;
    }
}
