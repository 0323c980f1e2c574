using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Registry.Core.Catalog;
using Registry.Core.Validation;
using Registry.Data;

namespace Registry.Web.Validation;

/// <summary>The sandbox could not be run at all: a problem of the server (missing files, no process), not of the model.</summary>
internal sealed class SandboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The worker lost its claim on the job (another worker took it over); its result must not be reported.</summary>
internal sealed class LeaseLostException() : Exception("The validation job's lease was lost.");

/// <summary>
/// Runs Registry.Sandbox for one job inside the walls of <see cref="SandboxLauncher"/>: an empty
/// working directory, no inherited environment, a wall-clock timeout and a resident-memory cap, both
/// enforced by killing it. Whatever happens to the child (crash, hang, memory blow-up) becomes a
/// Failed check with the reason; the server itself is never at risk. Each outcome names the walls.
/// </summary>
internal sealed class SandboxRunner(IOptions<ValidationOptions> options, DataPaths paths, SandboxLauncher launcher, ILogger<SandboxRunner> logger)
{
    private const int MaxOutputBytes = 4 * 1024 * 1024;

    /// <summary>The longest report line read; the rest of a longer one is dropped unread, never held.</summary>
    internal const int MaxLineChars = 256 * 1024;
    private const int StderrTail = 4 * 1024;
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(50);

    public async Task<ValidationOutcome> RunAsync(SandboxJob job, Func<CancellationToken, Task<bool>> renewLease, CancellationToken ct)
    {
        var o = options.Value;
        var sandbox = SandboxPath();
        var walls = launcher.Walls();
        if (!walls.IsAvailable) throw new SandboxUnavailableException(walls.Unavailable!);
        var workDir = Path.Combine(paths.Sandboxes, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(workDir);
        try
        {
            // In a PID namespace the server's id means nothing: bubblewrap's --die-with-parent watches it instead.
            string[] args = walls.Isolation == SandboxIsolation.Process
                ? [sandbox, "--parent", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]
                : [sandbox];
            var files = new[] { job.ModelPath }.Concat(job.ReferenceInputs.Concat(job.ReferenceOutputs).Select(r => r.Path)).ToList();
            var info = launcher.StartInfo(walls, SandboxLauncher.DotnetHost(), args, workDir, files, o.MemoryLimitMiB * 1024 * 1024);
            Process process;
            try
            {
                process = SandboxLauncher.Start(info);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new SandboxUnavailableException($"could not start the sandbox ({ex.Message})", ex);
            }
            using var owned = process;

            var state = new RunState();
            var stdout = ReadReportAsync(process.StandardOutput, state);
            var stderr = ReadTailAsync(process.StandardError);
            string? killedFor;
            long peakRss;
            try
            {
                await process.StandardInput.WriteAsync(JsonSerializer.Serialize(job, SandboxMessage.Json));
                process.StandardInput.Close();
                (killedFor, peakRss) = await WatchAsync(process, state, renewLease, o, ct);
                await process.WaitForExitAsync(CancellationToken.None);
            }
            finally
            {
                // Whatever stopped the watch (a lost lease, a database error, shutdown), the child
                // must not run on without its limits.
                if (!process.HasExited) Kill(process);
            }
            await Task.WhenAll(stdout, stderr);
            // A sandbox that never began a check did not fail on the model: it could not run at all.
            if (!state.Done && killedFor is null && state.Stage is null)
                throw new SandboxUnavailableException(
                    $"the sandbox exited before starting ({ExitDescription(process.ExitCode)}){(string.IsNullOrWhiteSpace(await stderr) ? "" : ": " + Trim(await stderr))}");

            return Verdict(state, killedFor, process.ExitCode, await stderr, peakRss, o) with { Isolation = walls.Description };
        }
        finally
        {
            try { Directory.Delete(workDir, recursive: true); }
            catch (IOException ex) { logger.LogWarning(ex, "Could not remove the sandbox folder {Folder}", workDir); }
        }
    }

    internal sealed class RunState
    {
        public readonly List<CheckResult> Checks = [];
        public string? Stage;
        public PerformanceFigures? Figures;
        public string? Runtime;
        public bool Done;
        public bool OutputOverflow;
    }

    /// <summary>
    /// Reads the sandbox's report, one JSON message a line, keeping at most <see cref="MaxLineChars"/>
    /// of a line and <see cref="MaxOutputBytes"/> in all: a model (or a native library) that prints
    /// without end, or without a newline, costs the server no more memory than that. Either excess is
    /// <see cref="RunState.OutputOverflow"/>; the output is still drained, so the child never blocks
    /// on a full pipe.
    /// </summary>
    internal static async Task ReadReportAsync(StreamReader output, RunState state)
    {
        var total = 0L;
        var line = new StringBuilder();
        var tooLong = false;
        var buffer = new char[4096];
        int n;
        while ((n = await output.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] is not ('\n' or '\r')) // a lone '\r' (progress noise) ends a line too
                {
                    if (line.Length < MaxLineChars) line.Append(buffer[i]);
                    else tooLong = true;
                    continue;
                }
                if (line.Length == 0 && !tooLong) continue;
                total += line.Length;
                Take(line.ToString(), tooLong || total > MaxOutputBytes, state);
                line.Clear();
                tooLong = false;
            }
        }
        if (line.Length > 0) Take(line.ToString(), tooLong || total + line.Length > MaxOutputBytes, state);
    }

    private static void Take(string line, bool overflow, RunState state)
    {
        if (overflow)
        {
            state.OutputOverflow = true;
            return;
        }
        SandboxMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<SandboxMessage>(line, SandboxMessage.Json);
        }
        catch (JsonException)
        {
            return; // a native library printing to stdout is not part of the report
        }
        lock (state)
        {
            switch (message?.Type)
            {
                case SandboxMessage.StageType: state.Stage = message.Stage; break;
                case SandboxMessage.CheckType when message.Check is not null: state.Checks.Add(message.Check); break;
                case SandboxMessage.FiguresType: state.Figures = message.Figures; state.Runtime = message.Runtime; break;
                case SandboxMessage.DoneType: state.Done = true; state.Runtime ??= message.Runtime; break;
            }
        }
    }

    private static async Task<string> ReadTailAsync(StreamReader error)
    {
        var tail = new StringBuilder();
        var buffer = new char[4096];
        int n;
        while ((n = await error.ReadAsync(buffer)) > 0)
        {
            tail.Append(buffer, 0, n);
            if (tail.Length > StderrTail * 2) tail.Remove(0, tail.Length - StderrTail);
        }
        return tail.Length > StderrTail ? tail.ToString(tail.Length - StderrTail, StderrTail) : tail.ToString();
    }

    /// <summary>Watches the child until it exits: memory every 50 ms, the clock, the lease. Returns why it was killed, if it was.</summary>
    private async Task<(string? KilledFor, long PeakRss)> WatchAsync(Process process, RunState state,
        Func<CancellationToken, Task<bool>> renewLease, ValidationOptions o, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        var limit = o.MemoryLimitMiB * 1024 * 1024;
        var nextHeartbeat = TimeSpan.FromSeconds(o.HeartbeatSeconds);
        long peak = 0;
        try
        {
            while (!process.HasExited)
            {
                ct.ThrowIfCancellationRequested();
                var rss = TreeResidentBytes(process.Id);
                peak = Math.Max(peak, rss);
                if (rss > limit)
                {
                    Kill(process);
                    return ($"exceeded the memory limit of {o.MemoryLimitMiB} MiB (resident memory reached {rss / (1024 * 1024)} MiB) and was stopped. "
                        + "The model needs more memory than validation allows on these inputs: declare smaller metadata.smokeTestShapes, "
                        + "or an operator may raise Registry:Validation:MemoryLimitMiB", peak);
                }
                if (clock.Elapsed > timeout)
                {
                    Kill(process);
                    return ($"timed out after {o.TimeoutSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s and was stopped. "
                        + "A loop that never ends, or inputs far larger than intended, are the usual causes; "
                        + "an operator may raise Registry:Validation:TimeoutSeconds for models that are slow by design", peak);
                }
                if (clock.Elapsed > nextHeartbeat)
                {
                    nextHeartbeat = clock.Elapsed + TimeSpan.FromSeconds(o.HeartbeatSeconds);
                    if (!await renewLease(ct))
                    {
                        Kill(process);
                        throw new LeaseLostException();
                    }
                }
                await Task.WhenAny(process.WaitForExitAsync(ct), Task.Delay(WatchInterval, ct));
            }
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
        return (null, peak);
    }

    internal ValidationOutcome Verdict(RunState state, string? killedFor, int exitCode, string stderr, long peakRss, ValidationOptions o)
    {
        var checks = state.Checks.ToList();
        var interrupted = killedFor is not null || !state.Done;
        if (interrupted)
        {
            // The check it was in: the stage last announced, unless that check had already reported,
            // in which case the sandbox was stopped before announcing the next one.
            var stage = state.Stage is { } announced && checks.All(c => c.Name != announced)
                ? announced
                : CheckNames.All.FirstOrDefault(n => checks.All(c => c.Name != n)) ?? state.Stage ?? CheckNames.Format;
            var why = killedFor ?? $"the sandbox stopped unexpectedly ({ExitDescription(exitCode)}){(string.IsNullOrWhiteSpace(stderr) ? "" : ": " + Trim(stderr))}";
            if (state.OutputOverflow) why += "; it also wrote more output than allowed";
            if (checks.All(c => c.Name != stage))
                checks.Add(new CheckResult(stage, CheckStatus.Failed, $"The {stage} check {Sentence(why)}", 0));
            foreach (var name in CheckNames.All.Where(n => checks.All(c => c.Name != n)))
                checks.Add(new CheckResult(name, CheckStatus.Skipped, $"Not run: the sandbox was stopped during the {stage} check.", 0));
            logger.LogInformation("Sandbox stopped during {Stage}: {Why}", stage, why);
        }
        else
        {
            // A finished run reports every check (skipped ones too): one that is missing was lost to
            // the output bounds or to a line that could not be read, and fails rather than going missing.
            foreach (var name in CheckNames.All.Where(n => checks.All(c => c.Name != n)))
                checks.Add(new CheckResult(name, CheckStatus.Failed, state.OutputOverflow
                    ? $"The {name} check's result was lost: the sandbox wrote more output than the server reads (a line over {MaxLineChars / 1024} KiB, or {MaxOutputBytes / (1024 * 1024)} MiB in all)."
                    : $"The {name} check's result was lost: the sandbox's report did not include it.", 0));
        }
        checks = CheckNames.All.Select(n => checks.FirstOrDefault(c => c.Name == n)).OfType<CheckResult>().ToList();
        // A run that passes must show its latency figures at the same moment: a report that
        // claims success without timed runs (an older or broken sandbox) is not a pass.
        if (checks.All(c => c.Status != CheckStatus.Failed) && state.Figures is not { Runs: > 0, P95Ms: not null })
        {
            var unmeasured = new CheckResult(CheckNames.Performance, CheckStatus.Failed,
                "The sandbox reported no timed runs, so there are no latency figures; a validation cannot pass unmeasured.", 0);
            checks = checks.Select(c => c.Name == CheckNames.Performance ? unmeasured : c).ToList();
            if (checks.All(c => c.Name != CheckNames.Performance)) checks.Add(unmeasured);
        }

        var failed = checks.FirstOrDefault(c => c.Status == CheckStatus.Failed);
        var warnings = checks.Where(c => c.Status == CheckStatus.Warning).ToList();
        var figures = state.Figures is { } f && f.PeakRssBytes == 0 && peakRss > 0 ? f with { PeakRssBytes = peakRss } : state.Figures;
        var summary = failed is not null
            ? $"Failed {failed.Name}: {failed.Message}"
            : warnings.Count > 0
                ? $"Passed with {warnings.Count} warning(s): {string.Join(" ", warnings.Select(w => $"{w.Name}: {w.Message}"))}"
                : "Passed: every check succeeded.";
        return new ValidationOutcome(failed is null ? ValidationStatus.Passed : ValidationStatus.Failed, summary, checks, figures, state.Runtime);
    }

    private static string Sentence(string why) => why.StartsWith("exceeded", StringComparison.Ordinal) || why.StartsWith("timed out", StringComparison.Ordinal)
        ? why + "."
        : "could not finish: " + why + ".";

    private static string ExitDescription(int exitCode) => exitCode > 128
        ? $"killed by signal {exitCode - 128}{SignalName(exitCode - 128)}"
        : $"exit code {exitCode}";

    private static string SignalName(int signal) => signal switch
    {
        4 => " (SIGILL)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        _ => "",
    };

    private static string Trim(string text)
    {
        var flat = string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return flat.Length > 600 ? flat[..600] + "…" : flat;
    }

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
    }

    /// <summary>
    /// Resident memory of a process and all its descendants (the sandbox runs beneath prlimit and
    /// bubblewrap, and may start processes of its own), from /proc; 0 when it cannot be read.
    /// </summary>
    internal static long TreeResidentBytes(int pid)
    {
        long total = 0;
        var pending = new Stack<int>([pid]);
        for (var seen = 0; pending.Count > 0 && seen < 4096; seen++)
        {
            var next = pending.Pop();
            total += ResidentBytes(next);
            foreach (var child in Children(next)) pending.Push(child);
        }
        return total;
    }

    private static IEnumerable<int> Children(int pid)
    {
        string[] tasks;
        try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var task in tasks)
        {
            string children;
            try { children = File.ReadAllText(Path.Combine(task, "children")); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            foreach (var id in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(id, CultureInfo.InvariantCulture, out var child)) yield return child;
        }
    }

    /// <summary>Resident memory of a process from /proc; 0 when it cannot be read (exited, not Linux).</summary>
    internal static long ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        return 0;
    }

    private string SandboxPath()
    {
        var path = options.Value.SandboxPath ?? Path.Combine(AppContext.BaseDirectory, "Registry.Sandbox.dll");
        if (!File.Exists(path))
            throw new SandboxUnavailableException($"the sandbox program is missing: expected {Path.GetFileName(path)} beside the server (Registry:Validation:SandboxPath)");
        return path;
    }
}
