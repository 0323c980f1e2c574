namespace Registry.Core;

/// <summary>What kind of refusal an operation ended in; the web layer maps each kind to one HTTP status.</summary>
public enum ErrorKind
{
    /// <summary>The request itself is malformed (missing part, unparseable JSON, wrong field types).</summary>
    BadRequest,
    /// <summary>The request is well-formed but its content is refused (not an ONNX model, NaN metric…).</summary>
    Invalid,
    /// <summary>The model, version or artifact named does not exist.</summary>
    NotFound,
    /// <summary>The upload is larger than the configured limit.</summary>
    TooLarge,
    /// <summary>The request conflicts with the current state (a name that is already taken…).</summary>
    Conflict,
    /// <summary>Nobody is signed in, or the credentials no longer hold (revoked key, disabled account).</summary>
    Unauthorized,
    /// <summary>The caller is known but lacks the role or the key scope the action needs.</summary>
    Forbidden,
}

/// <summary>
/// An expected, explained refusal. <see cref="Title"/> is short and stable per kind of problem;
/// <see cref="Detail"/> tells the person what was wrong and what to do; <see cref="Errors"/> holds
/// field-level messages keyed by a JSON-ish path (<c>metrics[0].value</c>). <see cref="See"/> names
/// the place the advice in the detail leads to, if any, for the web layer to link.
/// </summary>
public sealed record RegistryError(
    ErrorKind Kind,
    string Title,
    string Detail,
    IReadOnlyDictionary<string, string[]>? Errors = null,
    RegistryLink? See = null)
{
    public static RegistryError NotFound(string detail) => new(ErrorKind.NotFound, "Not found", detail);

    public static RegistryError Invalid(string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(ErrorKind.Invalid, title, detail, errors);

    public static RegistryError BadRequest(string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(ErrorKind.BadRequest, title, detail, errors);

    public static RegistryError Unauthorized(string detail) => new(ErrorKind.Unauthorized, "Not signed in", detail);

    public static RegistryError Forbidden(string detail) => new(ErrorKind.Forbidden, "Not allowed", detail);
}

/// <summary>Either a value or a <see cref="RegistryError"/>; expected outcomes are values, not exceptions.</summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, RegistryError? error)
    {
        _value = value;
        Error = error;
    }

    public RegistryError? Error { get; }

    public bool IsSuccess => Error is null;

    public T Value => Error is null
        ? _value!
        : throw new InvalidOperationException($"The operation failed: {Error.Detail}");

    /// <summary>A success; needed where T is an interface, for which C# allows no implicit conversion.</summary>
    public static Result<T> Ok(T value) => new(value, null);

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(RegistryError error) => new(default, error);
}
