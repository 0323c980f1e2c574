using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Registry.Tests.Support;

/// <summary>The registry as a separate process (dotnet Registry.Web.dll), for tests that kill it.</summary>
public sealed class ServerProcess : IDisposable
{
    /// <summary>How long a start may take before the test gives up on it.</summary>
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(90);

    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <summary>
    /// Starts the server on <paramref name="dataDirectory"/>; from the build's folder, or from
    /// <paramref name="workingDirectory"/> as a service started elsewhere (where no appsettings.json is).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, IDictionary<string, string> settings, string? workingDirectory = null)
    {
        var web = WebBuildOutput();
        var port = FreePort();
        var info = new ProcessStartInfo(DotnetHost(), [Path.Combine(web, "Registry.Web.dll"), "--urls", $"http://127.0.0.1:{port}",
            $"--Registry:Storage:DataDirectory={dataDirectory}", "--Logging:LogLevel:Default=Warning"])
        {
            WorkingDirectory = workingDirectory ?? web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in TestBackend.SettingsFor(dataDirectory).Where(b => !settings.ContainsKey(b.Key))) info.ArgumentList.Add($"--{key}={value}");
        foreach (var (key, value) in settings) info.ArgumentList.Add($"--{key}={value}");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && errors.Count < 200) errors.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var probe = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(2) };
        // A bound on waiting, not an expectation of speed: a loaded machine can take many seconds to
        // start a server, and the loop returns as soon as it answers.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StartupLimit)
        {
            if (process.HasExited) throw new InvalidOperationException($"the server exited with {process.ExitCode} during start-up: {string.Join("\n", errors)}");
            try
            {
                if ((int)(await probe.GetAsync("/api/v1/models")).StatusCode < 500) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        server.Dispose();
        throw new TimeoutException($"the server did not answer within {StartupLimit.TotalSeconds:0} s");
    }

    /// <summary>A client that sends <paramref name="apiKey"/> when given.</summary>
    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>Runs the program's command line (<c>dotnet Registry.Web.dll …</c>) as an operator would; returns exit code, stdout, stderr.</summary>
    public static async Task<(int Exit, string Out, string Error)> RunCommandAsync(params string[] args)
    {
        var web = WebBuildOutput();
        var info = new ProcessStartInfo(DotnetHost(), [Path.Combine(web, "Registry.Web.dll"), .. args])
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A command on a data folder works on that registry's back-end as well.
        const string dataArgument = "--Registry:Storage:DataDirectory=";
        if (args.FirstOrDefault(a => a.StartsWith(dataArgument, StringComparison.Ordinal)) is { } data)
            foreach (var (key, value) in TestBackend.SettingsFor(data[dataArgument.Length..]))
                if (!args.Any(a => a.StartsWith($"--{key}=", StringComparison.Ordinal))) info.ArgumentList.Add($"--{key}={value}");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A bound, not an expectation: a command that should have stopped but serves instead is killed.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"the command did not finish within 120 s: {string.Join(' ', args)}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>SIGKILL: no shutdown handlers, no flushing, exactly like a crash or an OOM kill.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <summary>Processes whose parent is this server and that run the sandbox.</summary>
    public IReadOnlyList<int> SandboxChildren() => ProcessTable.ChildrenRunning(Pid, "Registry.Sandbox.dll");

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private static string WebBuildOutput()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(TestData.RepoRoot, "Registry.Web", "bin", configuration, "net10.0");
        if (!File.Exists(Path.Combine(path, "Registry.Web.dll")))
            throw new FileNotFoundException($"Registry.Web is not built at {path}; the test build builds it.");
        return path;
    }

    public static string DotnetHost()
    {
        var root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, "dotnet");
        return File.Exists(host) ? host : "dotnet";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Reads /proc to find a process's children.</summary>
public static class ProcessTable
{
    /// <summary>Children of <paramref name="parent"/> whose command line contains a fragment and, when given, whose environment contains another.</summary>
    public static IReadOnlyList<int> ChildrenRunning(int parent, string commandFragment, string? environmentFragment = null)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (ppid == parent && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(commandFragment, StringComparison.Ordinal) &&
                    (environmentFragment is null || File.ReadAllText(Path.Combine(dir, "environ")).Contains(environmentFragment, StringComparison.Ordinal)))
                    found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
