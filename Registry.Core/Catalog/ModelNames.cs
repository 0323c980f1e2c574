using FluentValidation;

namespace Registry.Core.Catalog;

/// <summary>
/// The rules for model names: 1–100 characters from ASCII letters, digits, '-', '_' and '.';
/// starting with a letter or digit; never containing "..". Names appear in URLs and file names,
/// so the rules keep them safe in both.
/// </summary>
public static class ModelNames
{
    public const int MaxLength = 100;

    public static bool IsAllowedChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    /// <summary>Adds the model-name rules to a FluentValidation rule chain.</summary>
    public static IRuleBuilderOptions<T, string?> ValidModelName<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotEmpty().WithMessage("A model name is required.")
        .MaximumLength(MaxLength).WithMessage((_, n) => $"A model name has at most {MaxLength} characters; this one has {n?.Length ?? 0}.")
        .Must(n => n is null || n.All(IsAllowedChar))
            .WithMessage((_, n) => $"A model name may contain only letters, digits, '-', '_' and '.'; {FirstBadChar(n)}.")
        .Must(n => string.IsNullOrEmpty(n) || char.IsAsciiLetterOrDigit(n[0]))
            .WithMessage("A model name must start with a letter or a digit.")
        .Must(n => n is null || !n.Contains("..", StringComparison.Ordinal))
            .WithMessage("A model name must not contain '..'.");

    private static string FirstBadChar(string? name)
    {
        if (name is null) return "it is empty";
        for (var i = 0; i < name.Length; i++)
        {
            if (IsAllowedChar(name[i])) continue;
            var shown = char.IsControl(name[i]) || char.IsWhiteSpace(name[i]) ? $"U+{(int)name[i]:X4}" : $"'{name[i]}'";
            return $"found {shown} at position {i + 1}";
        }
        return "it has none other";
    }
}

/// <summary>Validates a model name on its own (route values, forms).</summary>
public sealed class ModelNameValidator : AbstractValidator<string?>
{
    public ModelNameValidator()
    {
        RuleFor(n => n).ValidModelName().OverridePropertyName("name");
    }

    /// <summary>Validates and returns the first problem as a refusal, or null when the name is valid.</summary>
    public RegistryError? Check(string? name)
    {
        var result = Validate(name ?? "");
        return result.IsValid ? null : RegistryError.Invalid("Invalid model name", result.Errors[0].ErrorMessage,
            new Dictionary<string, string[]> { ["name"] = result.Errors.Select(e => e.ErrorMessage).ToArray() });
    }
}

/// <summary>Lengths of the free-text fields; the same numbers size the database columns.</summary>
public static class MetadataLimits
{
    public const int DescriptionLength = 5000;
    public const int CardLength = 100_000;
    public const int TagKeyLength = 100;
    public const int TagValueLength = 500;
    public const int MaxTags = 50;
    public const int NameLength = 250;
    public const int UriLength = 2000;
    public const int DigestLength = 200;
    public const int CommitLength = 100;
    public const int RelationLength = 50;
    public const int ActorLength = 200;
    public const int MaxMetrics = 1000;
    public const int MaxParents = 50;
    public const int MaxDatasets = 100;
    public const int MaxParams = 500;
    public const int ParamsJsonLength = 64 * 1024;
}
