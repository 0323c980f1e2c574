using System.Runtime.InteropServices;

namespace Registry.Data;

/// <summary>
/// A rename is durable only once its directory is synced; .NET has no API for that, so on Unix the
/// directory is opened and fsynced through libc.
/// </summary>
internal static partial class Durability
{
    private const int ORdOnly = 0;

    public static void FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, ORdOnly);
        if (fd < 0) return;
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
