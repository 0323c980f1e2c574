using Registry.Core;
using Registry.Core.Catalog;

namespace Registry.Web.Api;

/// <summary>Reads JSON request bodies with the same rules and error messages as the upload's metadata part.</summary>
internal static class RequestJson
{
    public const int MaxBodyBytes = 1024 * 1024;

    public static async Task<Result<T>> ReadAsync<T>(HttpRequest request, string what, CancellationToken ct) where T : class
    {
        if (!(request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase) &&
            !(request.ContentType ?? "").Contains("+json", StringComparison.OrdinalIgnoreCase))
            return RegistryError.BadRequest("Unsupported content type",
                $"Send the {what} as JSON with Content-Type: application/json (got '{request.ContentType ?? "none"}').");
        var body = await ReadLimitedAsync(request.Body, MaxBodyBytes, ct);
        if (body is null)
            return new RegistryError(ErrorKind.TooLarge, "Body too large", $"The {what} is larger than {MaxBodyBytes / 1024} KiB.");
        return InputErrors.ParseJson<T>(body, what);
    }

    /// <summary>Like <see cref="ReadAsync{T}"/>, for bodies that may be left out entirely (an approval without a comment).</summary>
    public static Task<Result<T>> ReadOptionalAsync<T>(HttpRequest request, string what, CancellationToken ct) where T : class, new() =>
        request.ContentLength == 0 || (request.ContentLength is null && request.ContentType is null)
            ? Task.FromResult<Result<T>>(new T())
            : ReadAsync<T>(request, what, ct);

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the stream holds more.</summary>
    public static async Task<byte[]?> ReadLimitedAsync(Stream stream, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > limit) return null;
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
