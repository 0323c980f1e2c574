using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FluentValidation.Results;

namespace Registry.Core.Catalog;

/// <summary>Turns JSON and validation failures into refusals with field-level errors keyed by JSON path.</summary>
public static partial class InputErrors
{
    /// <summary>
    /// How request JSON is read: camelCase, unknown fields refused (a typo such as "descripton" must
    /// not be silently dropped), and "NaN"/"Infinity" accepted so that the validator can refuse
    /// them with a message that names the metric.
    /// </summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        AllowTrailingCommas = false,
        MaxDepth = 32,
    };

    /// <summary>Reads a JSON document of type T, or explains what is wrong with it and where.</summary>
    public static Result<T> ParseJson<T>(ReadOnlySpan<byte> json, string what) where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, JsonOptions);
            if (value is null)
                return RegistryError.BadRequest($"Invalid {what}", $"The {what} must be a JSON object, not null.");
            return value;
        }
        catch (JsonException ex)
        {
            var path = JsonPath(ex.Path);
            var message = Humanize(ex.Message);
            return RegistryError.BadRequest(
                $"Invalid {what}",
                path is null ? $"The {what} is not valid JSON: {message}" : $"The {what} has a problem at '{path}': {message}",
                new Dictionary<string, string[]> { [path ?? "$"] = [message] });
        }
    }

    public static RegistryError ToError(ValidationResult result, string title, ErrorKind kind = ErrorKind.Invalid)
    {
        var errors = result.Errors
            .GroupBy(e => CamelPath(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());
        var first = result.Errors[0].ErrorMessage;
        var more = result.Errors.Count - 1;
        var detail = more == 0 ? first : $"{first} (and {more} more problem{(more == 1 ? "" : "s")}; see errors)";
        return new RegistryError(kind, title, detail, errors);
    }

    /// <summary>"Lineage.Parents[0].Model" → "lineage.parents[0].model"; tag keys after "tags." are kept as sent.</summary>
    public static string CamelPath(string path)
    {
        var segments = path.Split('.');
        for (var i = 0; i < segments.Length; i++)
        {
            if (i > 0 && (segments[i - 1].Equals("tags", StringComparison.OrdinalIgnoreCase) ||
                          segments[i - 1].Equals("smokeTestShapes", StringComparison.OrdinalIgnoreCase))) break;
            if (segments[i].Length > 0) segments[i] = char.ToLowerInvariant(segments[i][0]) + segments[i][1..];
        }
        return string.Join('.', segments);
    }

    private static string? JsonPath(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>System.Text.Json speaks of .NET types; people sending JSON think in JSON types.</summary>
    private static string Humanize(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var converted = ConvertedTo().Match(message);
        if (converted.Success) return "expected " + JsonTypeOf(converted.Groups[1].Value) + ".";
        var unmapped = Unmapped().Match(message);
        if (unmapped.Success) return $"unknown field '{unmapped.Groups[1].Value}' (check its spelling).";
        return message;
    }

    private static string JsonTypeOf(string dotnetType)
    {
        var nullable = NullableOf().Match(dotnetType);
        if (nullable.Success) dotnetType = nullable.Groups[1].Value;
        return dotnetType switch
        {
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Int32" or "System.Int64" => "a whole number",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            _ when dotnetType.StartsWith("System.Collections.Generic.Dictionary", StringComparison.Ordinal) => "an object",
            _ when dotnetType.StartsWith("System.Collections.Generic.List", StringComparison.Ordinal) => "an array",
            _ => "an object",
        };
    }

    [GeneratedRegex(@"^System\.Nullable`1\[\[?([^,\]]+)")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"could not be converted to ([^\s]+?)\.?$")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"property '([^']*)' could not be mapped")]
    private static partial Regex Unmapped();
}
