namespace Registry.Core.Catalog;

/// <summary>Tags as people type them: one <c>key=value</c> per line (a line without '=' is a tag without a value).</summary>
public static class TagLines
{
    public static string Format(IReadOnlyDictionary<string, string> tags) =>
        string.Join('\n', tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value.Length == 0 ? t.Key : $"{t.Key}={t.Value}"));

    /// <summary>Reads the lines; blank lines are skipped, keys trimmed. A key given twice is refused by line.</summary>
    public static Result<Dictionary<string, string>> Parse(string? text)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var key = (eq < 0 ? line : line[..eq]).Trim();
            var value = eq < 0 ? "" : line[(eq + 1)..].Trim();
            if (key.Length == 0)
                return RegistryError.Invalid("Invalid tags", $"Line {i + 1} has no key: write key=value.",
                    new Dictionary<string, string[]> { ["tags"] = [$"Line {i + 1} has no key: write key=value."] });
            if (!tags.TryAdd(key, value))
                return RegistryError.Invalid("Invalid tags", $"Tag '{Rules.Shorten(key)}' is given twice (line {i + 1}).",
                    new Dictionary<string, string[]> { [$"tags.{key}"] = [$"Tag '{Rules.Shorten(key)}' is given twice (line {i + 1})."] });
        }
        return tags;
    }
}
