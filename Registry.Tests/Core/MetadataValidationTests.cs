using Registry.Core;
using Registry.Core.Catalog;

namespace Registry.Tests.Core;

public class MetadataValidationTests
{
    private static RegistryError? Check(string json)
    {
        var parsed = InputErrors.ParseJson<VersionMetadata>(System.Text.Encoding.UTF8.GetBytes(json), "metadata");
        if (!parsed.IsSuccess) return parsed.Error;
        var result = new VersionMetadataValidator().Validate(parsed.Value);
        return result.IsValid ? null : InputErrors.ToError(result, "Invalid metadata");
    }

    [Fact]
    public void Complete_metadata_is_accepted()
    {
        Assert.Null(Check("""
            {
              "description": "Gradient-boosted fraud model",
              "tags": {"team": "risk", "framework": "xgboost"},
              "metrics": [{"key": "auc", "value": 0.931, "dataset": "holdout-2026-10"}, {"key": "auc", "value": 0.94}],
              "lineage": {
                "parents": [{"model": "fraud-detector", "version": 2, "relation": "fine-tuned-from"}],
                "datasets": [{"name": "transactions", "uri": "s3://bucket/tx/2026-10", "digest": "sha256:abc"}],
                "source": {"commit": "9f2c1e7", "runUrl": "https://ci.example/runs/42"},
                "params": {"lr": 0.01, "depth": 6, "objective": "binary"}
              }
            }
            """));
    }

    [Theory]
    [InlineData("NaN", "Metric 'auc' must be a finite number; got NaN.")]
    [InlineData("Infinity", "Metric 'auc' must be a finite number; got Infinity.")]
    [InlineData("-Infinity", "Metric 'auc' must be a finite number; got -Infinity.")]
    public void Non_finite_metrics_are_refused_naming_the_metric(string literal, string message)
    {
        var error = Check($$"""{"metrics": [{"key": "auc", "value": "{{literal}}"}]}""");
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.Invalid, error.Kind);
        Assert.Equal([message], error.Errors!["metrics[0].value"]);
    }

    [Fact]
    public void A_field_of_the_wrong_type_is_a_bad_request_naming_the_field()
    {
        var error = Check("""{"metrics": [{"key": "auc", "value": "high"}]}""");
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.Equal(["expected a number."], error.Errors!["metrics[0].value"]);
    }

    [Fact]
    public void A_misspelled_field_is_refused_rather_than_ignored()
    {
        var error = Check("""{"descripton": "typo"}""");
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.Contains("unknown field 'descripton'", error.Detail);
    }

    [Fact]
    public void Malformed_json_is_a_bad_request()
    {
        var error = Check("""{"description": "unterminated""");
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadRequest, error.Kind);
        Assert.StartsWith("The metadata", error.Detail);
    }

    [Fact]
    public void An_over_long_description_is_refused_with_its_length()
    {
        var error = Check($$"""{"description": "{{new string('d', 5001)}}"}""");
        Assert.NotNull(error);
        Assert.Equal(["A description has at most 5000 characters; this one has 5001."], error.Errors!["description"]);
    }

    [Fact]
    public void An_over_long_tag_value_and_a_bad_tag_key_are_refused_by_key()
    {
        var error = Check($$$"""{"tags": {"ok": "{{{new string('v', 501)}}}", "bad key": "x"}}""");
        Assert.NotNull(error);
        Assert.Contains("at most 500 characters", error.Errors!["tags.ok"][0]);
        Assert.Contains("may contain only", error.Errors!["tags.bad key"][0]);
    }

    [Theory]
    [InlineData("""{"lineage": {"parents": [{"model": "a", "version": 0, "relation": "fine-tuned-from"}]}}""", "lineage.parents[0].version", "Version numbers start at 1.")]
    [InlineData("""{"lineage": {"parents": [{"model": "a", "version": 1, "relation": "Fine Tuned"}]}}""", "lineage.parents[0].relation", "A relation is lower-case words joined by '-', such as \"fine-tuned-from\".")]
    [InlineData("""{"lineage": {"parents": [{"model": "../etc", "version": 1, "relation": "x"}]}}""", "lineage.parents[0].model", "A model name must start with a letter or a digit.")]
    [InlineData("""{"lineage": {"datasets": [{"name": "d", "uri": "javascript:alert(1)"}]}}""", "lineage.datasets[0].uri", "A dataset URI must be absolute, such as s3://bucket/path or https://host/path (javascript:, data: and vbscript: are refused).")]
    [InlineData("""{"lineage": {"source": {"runUrl": "ftp://x/y"}}}""", "lineage.source.runUrl", "A run URL must be an absolute http:// or https:// address.")]
    [InlineData("""{"lineage": {"parents": [{"model": "a", "version": 1, "relation": "x"}, {"model": "A", "version": 1, "relation": "y"}]}}""", "lineage.parents[1]", "Parent A v1 is listed twice.")]
    [InlineData("""{"metrics": [{"key": "auc", "value": 1}, {"key": "auc", "value": 2}]}""", "metrics[1]", "Metric 'auc' is given twice.")]
    [InlineData("""{"metrics": [{"value": 1}]}""", "metrics[0].key", "A metric needs a key, such as \"auc\".")]
    public void Lineage_and_metric_rules_report_the_field_that_breaks_them(string json, string field, string message)
    {
        var error = Check(json);
        Assert.NotNull(error);
        Assert.True(error.Errors!.ContainsKey(field), $"expected an error at '{field}', got: {string.Join(", ", error.Errors.Keys)}");
        Assert.Contains(message, error.Errors[field]);
    }
}
