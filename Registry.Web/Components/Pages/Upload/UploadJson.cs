using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registry.Web.Components.Pages.Upload;

/// <summary>The upload page's side of the HTTP exchange: the metadata it sends and the answer it reads.</summary>
internal static class UploadJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    internal sealed record Outcome(
        (string Model, int Version)? Created,
        string? Title,
        string? Detail,
        IReadOnlyDictionary<string, string[]> Errors);

    /// <summary>Reads a 201 version or a problem+json answer; anything else is described as it came.</summary>
    public static Outcome ReadOutcome(int status, string body)
    {
        var none = new Dictionary<string, string[]>();
        if (status == 0)
            return new Outcome(null, "Upload failed", body, none);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (status == 201)
                return new Outcome((root.GetProperty("model").GetString()!, root.GetProperty("version").GetInt32()), null, null, none);

            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var errors = new Dictionary<string, string[]>();
            if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
                foreach (var field in e.EnumerateObject())
                    errors[field.Name] = field.Value.EnumerateArray().Select(m => m.GetString() ?? "").ToArray();
            return new Outcome(null, title ?? $"Upload refused ({status})", detail ?? "The server gave no reason.", errors);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            var shown = body.Length > 300 ? body[..300] + "…" : body;
            return new Outcome(null, $"Upload failed ({status})", string.IsNullOrWhiteSpace(shown) ? "The server answered without a body." : shown, none);
        }
    }
}
