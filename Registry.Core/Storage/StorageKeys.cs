using System.Text.RegularExpressions;

namespace Registry.Core.Storage;

/// <summary>
/// The content address of stored bytes, the same in every store: <c>sha256/&lt;2 hex&gt;/&lt;64 hex&gt;</c>
/// (a folder path on disk, an object key, after the store's prefix, in a bucket).
/// </summary>
public static partial class StorageKeys
{
    /// <summary>The first segment of every key.</summary>
    public const string Prefix = "sha256";

    /// <summary>The key of bytes with this lower-case hex SHA-256.</summary>
    public static string Of(string sha256) => $"{Prefix}/{sha256[..2]}/{sha256}";

    /// <summary>True when <paramref name="value"/> is a SHA-256 as 64 lower-case hex digits.</summary>
    public static bool IsSha256(string value) => DigestPattern().IsMatch(value);

    [GeneratedRegex(@"^[0-9a-f]{64}\z")]
    private static partial Regex DigestPattern();

    /// <summary>True when <paramref name="key"/> is a well-formed content address (never a path a client chose).</summary>
    public static bool IsKey(string key) => KeyPattern().IsMatch(key);

    [GeneratedRegex(@"^sha256/[0-9a-f]{2}/[0-9a-f]{64}\z")]
    private static partial Regex KeyPattern();
}
