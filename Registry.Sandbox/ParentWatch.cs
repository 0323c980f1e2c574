namespace Registry.Sandbox;

/// <summary>
/// Ends the sandbox when the server that started it is gone (killed, crashed): an orphaned sandbox
/// would otherwise run on, unwatched, until its model finished or never did.
/// </summary>
internal static class ParentWatch
{
    /// <summary>The server's process id, passed as <c>--parent &lt;pid&gt;</c>; null when not given.</summary>
    public static int? ExpectedParent(string[] args)
    {
        var at = Array.IndexOf(args, "--parent");
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    public static void Start(int? expectedParent)
    {
        if (!OperatingSystem.IsLinux()) return;
        var parent = ParentPid();
        // The server may have died between starting this process and this line: the process has
        // then already been handed to another parent, and watching that one would watch nothing.
        if (expectedParent is { } expected && parent != expected) Environment.Exit(3);
        if (parent <= 1) return;
        var thread = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(500);
                if (ParentPid() != parent) Environment.Exit(3);
            }
        })
        { IsBackground = true, Name = "parent-watch" };
        thread.Start();
    }

    private static int ParentPid()
    {
        // /proc/self/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>This process's peak resident memory (VmHWM), in bytes; 0 where /proc is not available.</summary>
    public static long PeakRssBytes()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
