using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using Registry.Core.Storage;

namespace Registry.Core.Catalog;

internal static partial class Patterns
{
    [GeneratedRegex(@"^[A-Za-z0-9_\-. /:]+$")]
    public static partial Regex MetricName();

    [GeneratedRegex(@"^[A-Za-z0-9_\-.:/]+$")]
    public static partial Regex TagKey();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*$")]
    public static partial Regex Relation();

    [GeneratedRegex(@"^[A-Za-z0-9._/@:+-]+$")]
    public static partial Regex Commit();
}

internal static class Rules
{
    private static readonly HashSet<string> ScriptSchemes = new(StringComparer.OrdinalIgnoreCase) { "javascript", "vbscript", "data" };

    public static IRuleBuilderOptions<T, string?> MetricName<T>(this IRuleBuilder<T, string?> rule, string what) => rule
        .MaximumLength(MetadataLimits.NameLength).WithMessage($"A {what} has at most {MetadataLimits.NameLength} characters.")
        .Matches(Patterns.MetricName()).WithMessage($"A {what} may contain only letters, digits, '_', '-', '.', ' ', '/' and ':'.");

    public static IRuleBuilderOptions<T, string?> Description<T>(this IRuleBuilder<T, string?> rule) => rule
        .MaximumLength(MetadataLimits.DescriptionLength)
        .WithMessage((_, d) => $"A description has at most {MetadataLimits.DescriptionLength} characters; this one has {d?.Length}.");

    public static bool IsSafeUri(string? uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) && !ScriptSchemes.Contains(u.Scheme);

    public static bool IsWebUrl(string? uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp);

    /// <summary>Key=value tags: bounded count, key characters and lengths.</summary>
    public static void Tags<T>(this AbstractValidator<T> validator, Func<T, Dictionary<string, string>?> tags)
    {
        validator.RuleFor(x => tags(x)).Custom((map, ctx) =>
        {
            if (map is null) return;
            if (map.Count > MetadataLimits.MaxTags)
                ctx.AddFailure("tags", $"At most {MetadataLimits.MaxTags} tags are allowed; {map.Count} were given.");
            foreach (var (key, value) in map)
            {
                var path = $"tags.{key}";
                if (key.Length is 0 or > MetadataLimits.TagKeyLength)
                    ctx.AddFailure(path, $"A tag key has 1 to {MetadataLimits.TagKeyLength} characters; '{Shorten(key)}' has {key.Length}.");
                else if (!Patterns.TagKey().IsMatch(key))
                    ctx.AddFailure(path, $"A tag key may contain only letters, digits, '_', '-', '.', ':' and '/'; '{Shorten(key)}' does not qualify.");
                if (value is null)
                    ctx.AddFailure(path, "A tag value is a string; use \"\" for a tag without a value.");
                else if (value.Length > MetadataLimits.TagValueLength)
                    ctx.AddFailure(path, $"A tag value has at most {MetadataLimits.TagValueLength} characters; the value of '{Shorten(key)}' has {value.Length}.");
            }
        });
    }

    public static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";

    /// <summary>Exactly one enum name, ignoring case: never a number, never "A, B" combined as flags.</summary>
    public static T? ParseName<T>(string? text) where T : struct, Enum =>
        Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, text?.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<T>(name)
            : null;
}

public sealed class MetricInputValidator : AbstractValidator<MetricInput>
{
    public MetricInputValidator()
    {
        RuleFor(m => m.Key).NotEmpty().WithMessage("A metric needs a key, such as \"auc\".").MetricName("metric key");
        RuleFor(m => m.Value).NotNull().WithMessage("A metric needs a numeric value.")
            .Must(v => v is null || double.IsFinite(v.Value))
            .WithMessage((m, v) => $"Metric '{m.Key}' must be a finite number; got {(double.IsNaN(v!.Value) ? "NaN" : v > 0 ? "Infinity" : "-Infinity")}.");
        RuleFor(m => m.Dataset).MetricName("dataset name").When(m => m.Dataset is not null);
        RuleFor(m => m.Key).Must(k => k is null || !Validation.ValidationQueue.SystemMetricKeys.Contains(k))
            .WithMessage((_, k) => $"'{k}' is measured by the registry's validator; name your own metric differently.");
    }

    /// <summary>Refuses a key/dataset pair given twice in one batch: which one was meant would be a guess.</summary>
    public static void NoDuplicates<T>(AbstractValidator<T> validator, Func<T, List<MetricInput>?> metrics, string path)
    {
        validator.RuleFor(x => metrics(x)).Custom((list, ctx) =>
        {
            if (list is null) return;
            if (list.Count > MetadataLimits.MaxMetrics)
                ctx.AddFailure(path, $"At most {MetadataLimits.MaxMetrics} metrics can be sent at once; {list.Count} were given.");
            var seen = new HashSet<(string?, string?)>();
            for (var i = 0; i < list.Count; i++)
                if (list[i] is { } m && !seen.Add((m.Key, m.Dataset)))
                    ctx.AddFailure($"{path}[{i}]", $"Metric '{m.Key}'{(m.Dataset is null ? "" : $" on dataset '{m.Dataset}'")} is given twice.");
        });
    }
}

public sealed class VersionMetadataValidator : AbstractValidator<VersionMetadata>
{
    public VersionMetadataValidator()
    {
        RuleFor(m => m.Description).Description();
        this.Tags(m => m.Tags);
        RuleForEach(m => m.Metrics).NotNull().WithMessage("A metric is an object {key, value, dataset}.")
            .SetValidator(new MetricInputValidator()).OverridePropertyName("metrics");
        MetricInputValidator.NoDuplicates(this, m => m.Metrics, "metrics");
        RuleFor(m => m.Lineage!).SetValidator(new LineageValidator()).When(m => m.Lineage is not null);
        RuleFor(m => m.SmokeTestShapes).Custom((shapes, ctx) =>
        {
            if (shapes is null) return;
            if (shapes.Count > 100) ctx.AddFailure("smokeTestShapes", "At most 100 smoke-test shapes are allowed.");
            foreach (var (name, dims) in shapes)
                if (dims is null || dims.Length > 32)
                    ctx.AddFailure($"smokeTestShapes.{name}", "A shape is a list of at most 32 dimensions, such as [1, 3, 224, 224].");
        });
        RuleFor(m => m.Sha256).Must(d => d is null || StorageKeys.IsSha256(d.ToLowerInvariant())).OverridePropertyName("sha256")
            .WithMessage("sha256 is the file's SHA-256 as 64 hex digits, as sha256sum prints it.");
    }
}

public sealed class MetricsBatchValidator : AbstractValidator<MetricsBatch>
{
    public MetricsBatchValidator()
    {
        RuleFor(b => b.Metrics).NotEmpty().WithMessage("Send at least one metric: {\"metrics\": [{\"key\": \"auc\", \"value\": 0.93}]}.");
        RuleForEach(b => b.Metrics).NotNull().WithMessage("A metric is an object {key, value, dataset}.")
            .SetValidator(new MetricInputValidator());
        MetricInputValidator.NoDuplicates(this, b => b.Metrics, "metrics");
    }
}

public sealed class CreateModelRequestValidator : AbstractValidator<CreateModelRequest>
{
    public CreateModelRequestValidator()
    {
        RuleFor(r => r.Name).ValidModelName();
        RuleFor(r => r.Description).Description();
        this.Tags(r => r.Tags);
    }
}

/// <summary>A partial update of a model's or a version's description, tags and card; only the fields sent are checked.</summary>
public sealed class UpdateMetadataRequestValidator : AbstractValidator<UpdateMetadataRequest>
{
    public UpdateMetadataRequestValidator()
    {
        RuleFor(r => r.Description).Description();
        this.Tags(r => r.Tags);
        RuleFor(r => r.Card).MaximumLength(MetadataLimits.CardLength)
            .WithMessage((_, c) => string.Create(CultureInfo.InvariantCulture,
                $"A card has at most {MetadataLimits.CardLength:N0} characters; this one has {c?.Length:N0}."));
    }
}

internal sealed class LineageValidator : AbstractValidator<LineageInput>
{
    public LineageValidator()
    {
        RuleFor(l => l.Parents).Must(p => p is null || p.Count <= MetadataLimits.MaxParents)
            .WithMessage($"At most {MetadataLimits.MaxParents} parent versions are allowed.");
        RuleForEach(l => l.Parents).NotNull().WithMessage("A parent is an object {model, version, relation}.").ChildRules(p =>
        {
            p.RuleFor(x => x.Model).ValidModelName();
            p.RuleFor(x => x.Version).NotNull().WithMessage("A parent needs a version number.")
                .GreaterThan(0).WithMessage("Version numbers start at 1.");
            p.RuleFor(x => x.Relation).NotEmpty().WithMessage("A parent needs a relation, such as \"fine-tuned-from\".")
                .MaximumLength(MetadataLimits.RelationLength)
                .Matches(Patterns.Relation()).WithMessage("A relation is lower-case words joined by '-', such as \"fine-tuned-from\".");
        });
        RuleFor(l => l.Parents).Custom((parents, ctx) =>
        {
            if (parents is null) return;
            var seen = new HashSet<(string, int)>();
            for (var i = 0; i < parents.Count; i++)
                if (parents[i] is { Model: { } m, Version: { } v } && !seen.Add((RegisteredModel.Normalize(m), v)))
                    ctx.AddFailure($"parents[{i}]", $"Parent {m} v{v} is listed twice.");
        });

        RuleFor(l => l.Datasets).Must(d => d is null || d.Count <= MetadataLimits.MaxDatasets)
            .WithMessage($"At most {MetadataLimits.MaxDatasets} datasets are allowed.");
        RuleForEach(l => l.Datasets).NotNull().WithMessage("A dataset is an object {name, uri, digest}.").ChildRules(d =>
        {
            d.RuleFor(x => x.Name).NotEmpty().WithMessage("A dataset needs a name.").MaximumLength(MetadataLimits.NameLength);
            d.RuleFor(x => x.Uri).MaximumLength(MetadataLimits.UriLength)
                .Must(Rules.IsSafeUri).When(x => x.Uri is not null)
                .WithMessage("A dataset URI must be absolute, such as s3://bucket/path or https://host/path (javascript:, data: and vbscript: are refused).");
            d.RuleFor(x => x.Digest).MaximumLength(MetadataLimits.DigestLength);
        });

        RuleFor(l => l.Source!).ChildRules(s =>
        {
            s.RuleFor(x => x.Commit).MaximumLength(MetadataLimits.CommitLength)
                .Matches(Patterns.Commit()).When(x => x.Commit is not null)
                .WithMessage("A commit is an identifier such as a git SHA (letters, digits and ._/@:+-).");
            s.RuleFor(x => x.RunUrl).MaximumLength(MetadataLimits.UriLength)
                .Must(Rules.IsWebUrl).When(x => x.RunUrl is not null)
                .WithMessage("A run URL must be an absolute http:// or https:// address.");
        }).When(l => l.Source is not null);

        RuleFor(l => l.Params).Custom((p, ctx) =>
        {
            if (p is null) return;
            if (p.Count > MetadataLimits.MaxParams)
                ctx.AddFailure("lineage.params", $"At most {MetadataLimits.MaxParams} parameters are allowed; {p.Count} were given.");
            if (JsonSerializer.SerializeToUtf8Bytes(p).Length > MetadataLimits.ParamsJsonLength)
                ctx.AddFailure("lineage.params", $"Parameters take at most {MetadataLimits.ParamsJsonLength / 1024} KiB of JSON.");
            foreach (var key in p.Keys.Where(k => k.Length is 0 or > MetadataLimits.NameLength))
                ctx.AddFailure("lineage.params", $"A parameter name has 1 to {MetadataLimits.NameLength} characters.");
        });
    }
}
