using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registry.Core.Catalog;

/// <summary>
/// A field of a partial update: <see cref="IsSet"/> is false when the JSON left the field out, true
/// when it was sent, as a value or as <c>null</c>. Lets one record tell "unchanged" from "cleared".
/// </summary>
[JsonConverter(typeof(OptionalConverterFactory))]
public readonly record struct Optional<T>(T? Value, bool IsSet)
{
    public static Optional<T> Unset => default;

    public static Optional<T> Of(T? value) => new(value, true);

    public static implicit operator Optional<T>(T? value) => Of(value);

    public override string ToString() => IsSet ? Value?.ToString() ?? "null" : "(unset)";
}

internal sealed class OptionalConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(OptionalConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class OptionalConverter<T> : JsonConverter<Optional<T>>
{
    // Called for null too, so that a null in the JSON counts as sent.
    public override bool HandleNull => true;

    public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return Optional<T>.Of(default);
        var inner = (JsonConverter<T>)options.GetConverter(typeof(T));
        return Optional<T>.Of(inner.Read(ref reader, typeof(T), options));
    }

    public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options)
    {
        if (!value.IsSet || value.Value is null) writer.WriteNullValue();
        else JsonSerializer.Serialize(writer, value.Value, options);
    }
}
