using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Registry.Core.Validation;
using Registry.Data;
using Registry.Tests.Support;
using Registry.Web.Validation;

namespace Registry.Tests.Sandbox;

/// <summary>
/// Each wall of the namespace sandbox, proved from inside: a shell runs where a model's checks run,
/// started by the same launcher with the same walls, files and memory limit, and tries what a model
/// that exploited ONNX Runtime would try. Every attempt must fail; the controls beside them (its own
/// folder, the model file) must work, so that a broken probe cannot pass for a wall. ./test.sh
/// installs bubblewrap; without it these tests fail, saying so.
/// </summary>
public sealed class SandboxWallsTests : IDisposable
{
    private const long MemoryLimit = 128L * 1024 * 1024;
    private readonly string _data = Directory.CreateTempSubdirectory("registry-walls-").FullName;
    private readonly SandboxLauncher _launcher;
    private readonly string _work;
    private readonly string _model;

    public SandboxWallsTests()
    {
        _launcher = new SandboxLauncher(Options.Create(new ValidationOptions()), new DataPaths(new StorageOptions { DataDirectory = _data }),
            NullLogger<SandboxLauncher>.Instance);
        File.WriteAllText(Path.Combine(_data, "registry.db"), "the catalogue");
        Directory.CreateDirectory(Path.Combine(_data, "artifacts"));
        _model = Path.Combine(_data, "artifacts", "model.onnx");
        File.WriteAllText(_model, "model bytes");
        File.WriteAllText(Path.Combine(_data, "artifacts", "other-model.onnx"), "another team's model");
        _work = Path.Combine(_data, "sandbox", "job-1");
        Directory.CreateDirectory(_work);
        Directory.CreateDirectory(Path.Combine(_data, "sandbox", "job-2")); // another sandbox's folder
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private SandboxWalls Walls()
    {
        var walls = _launcher.Walls();
        Assert.True(walls.IsAvailable, $"the namespace sandbox is not available here: {walls.Unavailable}");
        Assert.Equal(SandboxIsolation.Namespaces, walls.Isolation);
        return walls;
    }

    private Process Start(string script)
    {
        var info = _launcher.StartInfo(Walls(), "/usr/bin/bash", ["-c", script], _work, [_model], MemoryLimit);
        return SandboxLauncher.Start(info);
    }

    /// <summary>Runs the probe to its end (bounded) and returns what it printed, a line per attempt.</summary>
    private async Task<Dictionary<string, string>> ProbeAsync(string script)
    {
        using var process = Start(script);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120)); // a bound, not an expectation
        await process.WaitForExitAsync(bound.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, $"the probe printed nothing (exit {process.ExitCode}): {await stderr}");
        return lines.Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
    }

    /// <summary>A shell line that prints <c>name: done</c> when <paramref name="command"/> succeeds, else <c>name: refused</c>.</summary>
    private static string Attempt(string name, string command) => // the name holds no quotes
        $"if {command} >/dev/null 2>&1; then echo '{name}: done'; else echo '{name}: refused'; fi";

    [Fact]
    public async Task The_data_folder_other_models_and_other_sandboxes_are_not_there_and_the_model_is_read_only()
    {
        var results = await ProbeAsync(string.Join("\n",
            Attempt("read registry.db", $"cat '{_data}/registry.db'"),
            $"echo \"data folder: $(ls -A '{_data}' | tr '\\n' ' ')\"",
            $"echo \"artifacts: $(ls -A '{_data}/artifacts' | tr '\\n' ' ')\"",
            Attempt("read another model", $"cat '{_data}/artifacts/other-model.onnx'"),
            Attempt("see another sandbox", $"test -d '{_data}/sandbox/job-2'"),
            Attempt("read the model", $"grep -q 'model bytes' '{_model}'"),
            Attempt("change the model", $"sh -c 'echo x >> \"{_model}\"'")));

        Assert.Equal("refused", results["read registry.db"]);
        // Only the paths to the job's own file and folder are there, holding nothing else.
        Assert.Equal("artifacts sandbox", results["data folder"].Trim());
        Assert.Equal("model.onnx", results["artifacts"].Trim());
        Assert.Equal("refused", results["read another model"]);
        Assert.Equal("refused", results["see another sandbox"]);
        Assert.Equal("done", results["read the model"]); // the control: the job's own file is there
        Assert.Equal("refused", results["change the model"]);
        Assert.Equal("model bytes", File.ReadAllText(_model));
    }

    [Fact]
    public async Task There_is_no_network_not_even_to_the_servers_own_loopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0); // what the registry's own port is to a sandbox
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var results = await ProbeAsync(string.Join("\n",
            Attempt("connect to 127.0.0.1", $"timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'"),
            Attempt("connect to another address", "timeout 10 bash -c 'exec 3<>/dev/tcp/10.0.0.1/80'"),
            Attempt("connect to a public address", "timeout 10 bash -c 'exec 3<>/dev/tcp/1.1.1.1/443'")));

        Assert.Equal("refused", results["connect to 127.0.0.1"]);
        Assert.Equal("refused", results["connect to another address"]);
        Assert.Equal("refused", results["connect to a public address"]);
        Assert.False(listener.Pending(), "a connection from the sandbox reached the host's loopback");
    }

    [Fact]
    public async Task The_servers_processes_and_environment_are_out_of_sight()
    {
        var server = Environment.ProcessId; // this test process stands in for the server
        var results = await ProbeAsync(string.Join("\n",
            Attempt("read the environ of the server", $"cat /proc/{server}/environ"),
            Attempt("see the process of the server", $"test -d /proc/{server}"),
            Attempt("see its own process", "test -d /proc/self"),
            $"echo \"processes: $(ls /proc | grep -c '^[0-9]')\"",
            $"echo \"environment: $(env | cut -d= -f1 | sort | tr '\\n' ' ')\""));

        Assert.Equal("refused", results["read the environ of the server"]);
        Assert.Equal("refused", results["see the process of the server"]);
        Assert.Equal("done", results["see its own process"]);
        Assert.True(int.Parse(results["processes"], System.Globalization.CultureInfo.InvariantCulture) <= 6, $"processes in sight: {results["processes"]}");
        Assert.DoesNotContain("REGISTRY", results["environment"], StringComparison.Ordinal);
        Assert.DoesNotContain("ConnectionStrings", results["environment"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task It_writes_only_in_its_own_working_folder()
    {
        var probe = $"probe-{Guid.NewGuid():N}"; // a name of its own: nothing another run left can pass for a write
        var outside = new[] { "/", "/usr", "/tmp", "/dev", "/dev/shm", _data, Path.Combine(_data, "sandbox"), Path.GetDirectoryName(_data)! }.Distinct().ToList();
        var results = await ProbeAsync(string.Join("\n",
            outside.Select(folder => Attempt($"write in {folder}", $"sh -c 'echo x > \"{folder}/{probe}\"'"))
                .Append(Attempt("write in its working folder", "sh -c 'echo x > ./result && test -s ./result'"))
                .Append(Attempt("regain capabilities in a user namespace of its own", "unshare -Ur true"))
                .Append($"echo \"privileges: $(grep -E '^(NoNewPrivs|CapEff)' /proc/self/status | tr -s '\\t' ' ' | tr '\\n' ' ')\"")));

        foreach (var folder in outside) Assert.Equal("refused", results[$"write in {folder}"]);
        Assert.Equal("done", results["write in its working folder"]);
        Assert.Equal("refused", results["regain capabilities in a user namespace of its own"]);
        Assert.True(File.Exists(Path.Combine(_work, "result")), "the working folder is the server's own");
        Assert.Contains("NoNewPrivs: 1", results["privileges"], StringComparison.Ordinal);
        Assert.Contains("CapEff: 0000000000000000", results["privileges"], StringComparison.Ordinal);
        Assert.All(outside, folder => Assert.False(File.Exists(Path.Combine(folder, probe)), $"the sandbox wrote in {folder}"));
    }

    [Fact]
    public async Task A_process_that_escapes_with_setsid_dies_when_the_sandbox_is_killed()
    {
        var marker = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture) + "1";
        using var process = Start($"setsid -f sleep {marker}; setsid sleep {marker} & echo started; sleep 600");
        process.StandardInput.Close();
        Assert.Equal("started", await process.StandardOutput.ReadLineAsync());
        Assert.True(await Eventually.HoldsAsync(() => Sleepers(marker) == 2), "the two escaped sleepers never started");

        process.Kill(entireProcessTree: false); // only the sandbox's own process, as a crash of the runner would leave it
        await process.WaitForExitAsync();

        Assert.True(await Eventually.HoldsAsync(() => Sleepers(marker) == 0), "a sleeper escaped with setsid outlived the sandbox");
    }

    [Fact]
    public async Task A_sandbox_outlives_the_thread_that_started_it()
    {
        // bubblewrap's --die-with-parent follows the thread that forked it: a worker thread that
        // retires mid-validation must not take the sandbox with it.
        Process? process = null;
        var starter = new Thread(() => process = Start("echo started; sleep 2; echo alive"));
        starter.Start();
        starter.Join(); // the thread has ended
        using (process)
        {
            process!.StandardInput.Close();
            Assert.Equal("started", await process.StandardOutput.ReadLineAsync());
            Assert.Equal("alive", await process.StandardOutput.ReadLineAsync());
        }
    }

    [Fact]
    public async Task The_kernel_stops_an_allocation_past_the_memory_limit()
    {
        // 512 MB in one shell variable against a limit of 128 MiB; the second line is the control.
        var results = await ProbeAsync(string.Join("\n",
            Attempt("allocate past the limit", "bash -c 'x=$(head -c 512000000 /dev/zero | tr \"\\0\" a); test ${#x} -eq 512000000'"),
            Attempt("allocate within the limit", "bash -c 'x=$(head -c 8000000 /dev/zero | tr \"\\0\" a); test ${#x} -eq 8000000'"),
            $"echo \"limit: $(ulimit -d)\""));

        Assert.Equal("refused", results["allocate past the limit"]);
        Assert.Equal("done", results["allocate within the limit"]);
        Assert.Equal((MemoryLimit / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), results["limit"]);
    }

    /// <summary>How many processes on the host run <c>sleep {marker}</c>.</summary>
    private static int Sleepers(string marker) => Directory.EnumerateDirectories("/proc")
        .Where(d => int.TryParse(Path.GetFileName(d), out _))
        .Count(d =>
        {
            try { return File.ReadAllText(Path.Combine(d, "cmdline")) == $"sleep\0{marker}\0"; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });
}
