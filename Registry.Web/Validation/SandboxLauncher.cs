using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Options;
using Registry.Core.Validation;
using Registry.Data;

namespace Registry.Web.Validation;

/// <summary>
/// Starts a program inside the validation sandbox's walls. With <see cref="SandboxIsolation.Namespaces"/>
/// it goes through bubblewrap: new user, PID, mount, IPC, UTS and network namespaces (so no network
/// at all), no capabilities and no new privileges, a root that shows only the read-only system
/// folders, the program's own assemblies, the job's files (read-only) and its working folder; the data
/// folder, the server's <c>/proc</c> and every other sandbox are not there. The whole PID namespace
/// dies with it, and with the server. In both isolations the kernel caps its writable memory
/// (<c>RLIMIT_DATA</c>, through util-linux's <c>prlimit</c>), beneath the runner's resident-memory
/// watcher, and the environment is cleared. The validator and the tests of the walls start their
/// programs through this one class, so what the tests prove is what a model meets.
/// </summary>
internal sealed class SandboxLauncher(IOptions<ValidationOptions> options, DataPaths paths, ILogger<SandboxLauncher> logger)
{
    private static readonly string[] BubblewrapCandidates = ["/usr/bin/bwrap", "/bin/bwrap"];
    private const string Prlimit = "/usr/bin/prlimit";
    private const string NobodyId = "65534";
    private SandboxWalls? _available;

    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> Starts = new();
    private static readonly Lazy<Thread> Starter = new(() =>
    {
        var thread = new Thread(() =>
        {
            foreach (var (info, started) in Starts.GetConsumingEnumerable())
            {
                try
                {
                    var process = new Process { StartInfo = info };
                    process.Start();
                    started.SetResult(process);
                }
                catch (Exception ex)
                {
                    started.SetException(ex);
                }
            }
        })
        { IsBackground = true, Name = "sandbox-starter" };
        thread.Start();
        return thread;
    });

    /// <summary>
    /// Starts a sandbox's process from one thread that lives as long as the server. bubblewrap's
    /// <c>--die-with-parent</c> (<c>PR_SET_PDEATHSIG</c>) fires when the thread that forked it ends, not
    /// the process, and a thread-pool thread may retire while a validation still runs.
    /// </summary>
    public static Process Start(ProcessStartInfo info)
    {
        _ = Starter.Value;
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Starts.Add((info, started));
        return started.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// What the configured isolation can be had with here. A success is kept; a failure is probed again
    /// on the next job, so that installing bubblewrap needs no restart.
    /// </summary>
    public SandboxWalls Walls()
    {
        if (_available is { } known) return known;
        var walls = Probe();
        if (walls.IsAvailable) _available = walls;
        else logger.LogError("Validation cannot run: {Reason}", walls.Unavailable);
        return walls;
    }

    private SandboxWalls Probe()
    {
        var o = options.Value;
        if (o.Isolation == SandboxIsolation.Process)
            return Available(SandboxIsolation.Process, null, "process (Registry:Validation:Isolation=Process)");
        const string fallback = " Or set Registry:Validation:Isolation=Process to validate in a plain child process, which a model that exploits ONNX Runtime could escape.";
        if (!OperatingSystem.IsLinux())
            return Refused($"the sandbox's namespaces need Linux, and this server runs on {RuntimeInformation.OSDescription}.{fallback}");
        var bwrap = o.BubblewrapPath ?? BubblewrapCandidates.FirstOrDefault(File.Exists);
        if (bwrap is null || !File.Exists(bwrap))
            return Refused($"bubblewrap is not installed ({bwrap ?? "no bwrap in /usr/bin or /bin"}): install it (Debian: apt-get install bubblewrap), or name it in Registry:Validation:BubblewrapPath.{fallback}");

        // The walls themselves, tried on a program that does nothing: user namespaces may be switched off.
        string? work = null;
        try
        {
            work = Directory.CreateTempSubdirectory("registry-sandbox-probe-").FullName;
            var (exitCode, output) = Run(Namespaced(bwrap, "/usr/bin/true", [], work, [], null), TimeSpan.FromSeconds(20));
            if (exitCode != 0)
                return Refused($"bubblewrap could not build the sandbox's namespaces (exit code {exitCode}: {Short(output)}). "
                    + "User namespaces may be switched off (sysctl kernel.unprivileged_userns_clone or user.max_user_namespaces), or a container forbids them." + fallback);
            var (versionExit, version) = Run(new ProcessStartInfo(bwrap, ["--version"]), TimeSpan.FromSeconds(20));
            var name = versionExit == 0 && version.Trim() is { Length: > 0 and <= 40 } v ? v : "bubblewrap, version unknown";
            return Available(SandboxIsolation.Namespaces, bwrap, $"namespaces ({name})");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return Refused($"bubblewrap at {bwrap} could not be run ({ex.Message}).{fallback}");
        }
        finally
        {
            if (work is not null) Directory.Delete(work, recursive: true);
        }

        static SandboxWalls Refused(string why) => new(SandboxIsolation.Namespaces, null, null, "none", why);
        static string Short(string text) => text.Trim() is { Length: > 300 } t ? t[..300] + "…" : text.Trim();
    }

    /// <summary>
    /// Walls that can be had, with util-linux's prlimit when it is there; without it the run's record
    /// says that the kernel cannot be asked to cap the sandbox's memory, and the log warns.
    /// </summary>
    private SandboxWalls Available(SandboxIsolation isolation, string? bubblewrap, string description)
    {
        if (File.Exists(Prlimit)) return new SandboxWalls(isolation, bubblewrap, Prlimit, description, null);
        logger.LogWarning("{Prlimit} (util-linux) is missing: sandboxes run without a kernel memory limit, watched only by the runner", Prlimit);
        return new SandboxWalls(isolation, bubblewrap, null, description + ", no kernel memory limit", null);
    }

    /// <summary>
    /// The start of <paramref name="program"/> inside <paramref name="walls"/>: <paramref name="workDir"/>
    /// its only writable folder and its home, <paramref name="readOnlyFiles"/> visible at their own paths,
    /// <paramref name="memoryLimitBytes"/> of writable memory at most.
    /// </summary>
    public ProcessStartInfo StartInfo(SandboxWalls walls, string program, IReadOnlyList<string> arguments, string workDir,
        IReadOnlyList<string> readOnlyFiles, long memoryLimitBytes)
    {
        if (!walls.IsAvailable) throw new InvalidOperationException(walls.Unavailable);
        var info = walls.Isolation == SandboxIsolation.Namespaces
            ? Namespaced(walls.Bubblewrap!, program, arguments, workDir, readOnlyFiles, AssemblyFolderOf(program, arguments))
            : new ProcessStartInfo(program, arguments) { WorkingDirectory = workDir };
        if (walls.Prlimit is { } prlimit && memoryLimitBytes > 0)
        {
            // The kernel refuses any allocation past the limit, however fast it comes; the runner's
            // watcher, sampling resident memory, names the limit when the process dies of it.
            var limit = memoryLimitBytes.ToString(CultureInfo.InvariantCulture);
            var wrapped = new ProcessStartInfo(prlimit, [$"--data={limit}:{limit}", "--core=0:0", "--", info.FileName, .. info.ArgumentList])
            {
                WorkingDirectory = info.WorkingDirectory,
            };
            info = wrapped;
        }
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.StandardOutputEncoding = Encoding.UTF8;
        info.StandardErrorEncoding = Encoding.UTF8;
        // Nothing of the server's environment (connection strings, keys, tokens) reaches the model.
        info.Environment.Clear();
        info.Environment["HOME"] = workDir;
        info.Environment["TMPDIR"] = workDir;
        info.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_gcServer"] = "0";
        // No debugger, profiler or diagnostics IPC: the runtime would otherwise make a socket in TMPDIR.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        return info;
    }

    private ProcessStartInfo Namespaced(string bwrap, string program, IReadOnlyList<string> arguments, string workDir,
        IReadOnlyList<string> readOnlyFiles, string? assemblyFolder)
    {
        var args = new List<string>
        {
            // --disable-userns: no user namespace inside, where a process would get every capability back.
            "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", NobodyId, "--gid", NobodyId, "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
        };
        // Merged-/usr systems link these into /usr; older ones have real folders.
        foreach (var top in new[] { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" })
        {
            var link = new FileInfo(top).LinkTarget;
            if (link is not null) args.AddRange(["--symlink", link, top]);
            else if (Directory.Exists(top)) args.AddRange(["--ro-bind", top, top]);
        }
        args.AddRange(["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev"]);
        // The .NET host and the shared runtime only: a dotnet folder in a home directory also holds
        // that user's certificate stores.
        var runtime = DotnetRoot();
        if (!IsUnder(runtime, "/usr") && runtime != "/")
            foreach (var part in new[] { "dotnet", "host", Path.Combine("shared", "Microsoft.NETCore.App") }.Select(p => Path.Combine(runtime, p)))
                if (File.Exists(part) || Directory.Exists(part)) args.AddRange(["--ro-bind", part, part]);
        if (assemblyFolder is not null)
        {
            // The program's assemblies and native libraries, one by one: the folder may also hold the
            // server's settings files, whose secrets are not the model's to read. Under /usr (already
            // bound whole) an empty folder goes over it first.
            if (IsUnder(assemblyFolder, "/usr")) args.AddRange(["--tmpfs", assemblyFolder]);
            var entry = Path.GetFileNameWithoutExtension(arguments[0]);
            foreach (var file in Directory.EnumerateFiles(assemblyFolder).Where(f => IsCode(Path.GetFileName(f), entry)))
                args.AddRange(["--ro-bind", file, file]);
            var natives = Path.Combine(assemblyFolder, "runtimes");
            if (Directory.Exists(natives)) args.AddRange(["--ro-bind", natives, natives]);
            if (IsUnder(assemblyFolder, "/usr")) args.AddRange(["--remount-ro", assemblyFolder]);
        }
        // The data folder is an empty, read-only folder inside, whatever else shares its path.
        var data = Path.GetFullPath(paths.Root);
        args.AddRange(["--tmpfs", data]);
        foreach (var file in readOnlyFiles.Distinct(StringComparer.Ordinal)) args.AddRange(["--ro-bind", file, file]);
        args.AddRange(["--bind", workDir, workDir, "--remount-ro", data, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", workDir, "--", program]);
        args.AddRange(arguments);
        return new ProcessStartInfo(bwrap, args) { WorkingDirectory = workDir };
    }

    /// <summary>Assemblies, native libraries, and the entry assembly's own dependency and runtime files.</summary>
    private static bool IsCode(string name, string entry) =>
        name.EndsWith(".dll", StringComparison.Ordinal) || name.EndsWith(".so", StringComparison.Ordinal)
        || name == entry + ".deps.json" || name == entry + ".runtimeconfig.json";

    /// <summary>The folder of the managed program a dotnet host is asked to run; null for a native program.</summary>
    private static string? AssemblyFolderOf(string program, IReadOnlyList<string> arguments) =>
        SandboxDll(arguments) is { } dll && Path.GetFileNameWithoutExtension(program) == "dotnet" ? Path.GetDirectoryName(Path.GetFullPath(dll)) : null;

    private static string? SandboxDll(IReadOnlyList<string> arguments) =>
        arguments.Count > 0 && arguments[0].EndsWith(".dll", StringComparison.Ordinal) ? arguments[0] : null;

    private static bool IsUnder(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>The dotnet host that runs this server, found from the runtime's own folder.</summary>
    public static string DotnetHost()
    {
        var host = Path.Combine(DotnetRoot(), OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(host) ? host : "dotnet";
    }

    private static string DotnetRoot() => // …/shared/Microsoft.NETCore.App/<version>/
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    private static (int ExitCode, string Output) Run(ProcessStartInfo info, TimeSpan timeout)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        using var process = Start(info);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "it did not finish within " + timeout.TotalSeconds + " s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
