using System.Globalization;

namespace Registry.Web.Components;

/// <summary>How the UI writes sizes, times and counts.</summary>
public static class Format
{
    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
    };

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    public static string ShortSha(string sha256) => sha256.Length > 12 ? sha256[..12] : sha256;

    public static string ModelHref(string model) => $"/models/{Uri.EscapeDataString(model)}";

    public static string VersionHref(string model, int version) => $"{ModelHref(model)}/versions/{version}";
}
