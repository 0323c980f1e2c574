using System.Text.Json;
using Bunit;
using Registry.Core.Catalog;
using Registry.Tests.Support;
using Registry.Web.Components.Pages.Versions;

namespace Registry.Tests.Web.Components;

public class VersionPageTests : ComponentTestBase
{
    [Fact]
    public async Task The_version_page_shows_overview_signature_metrics_and_lineage()
    {
        var parent = await UploadAsync("teacher", OnnxModels.Linear(seed: 1));
        var version = await UploadAsync("student", OnnxModels.Linear(8, 2, seed: 2), new VersionMetadata
        {
            Description = "Distilled for the edge",
            Tags = new() { ["team"] = "risk" },
            Metrics = [new MetricInput { Key = "auc", Value = 0.9312, Dataset = "holdout" }],
            Lineage = new LineageInput
            {
                Parents = [new ParentInput { Model = "teacher", Version = parent.Version, Relation = "distilled-from" }],
                Datasets =
                [
                    new DatasetInput { Name = "tx", Uri = "https://data.example/tx", Digest = "sha256:42" },
                    new DatasetInput { Name = "raw", Uri = "s3://bucket/raw" },
                ],
                Source = new SourceInput { Commit = "9f2c1e7", RunUrl = "https://ci.example/runs/7" },
                Params = new() { ["lr"] = JsonSerializer.SerializeToElement(0.01) },
            },
        });

        var page = Context.Render<VersionPage>(p => p.Add(x => x.Name, "Student").Add(x => x.Number, 1));

        page.WaitForAssertion(() => Assert.Equal("student v1", page.Find("[data-testid=version-title]").TextContent.Trim()));
        Assert.Equal(version.Sha256, page.Find("[data-testid=sha256]").TextContent);
        Assert.Equal("/api/v1/models/student/versions/1/artifact", page.Find("[data-testid=download]").GetAttribute("href"));
        Assert.Equal("student-v1.onnx", page.Find("[data-testid=download]").GetAttribute("download"));
        Assert.Contains("Distilled for the edge", page.Find("[data-testid=overview]").TextContent);

        var inputs = page.Find("[data-testid=inputs]").TextContent;
        Assert.Contains("tensor(float)", inputs);
        Assert.Contains("[batch, 8]", inputs);
        Assert.Contains("[batch, 2]", page.Find("[data-testid=outputs]").TextContent);
        Assert.Contains("ai.onnx 17", page.Find("[data-testid=model-info]").TextContent);
        Assert.Contains("18 in 2 initializers", page.Find("[data-testid=model-info]").TextContent);
        Assert.Contains("MatMul", page.Find("[data-testid=operators]").TextContent);
        Assert.Contains("0.9312", page.Find("[data-testid=metrics]").TextContent);

        var lineage = page.Find("[data-testid=lineage]");
        Assert.Equal("/models/teacher/versions/1", lineage.QuerySelector("a[href^='/models/']")!.GetAttribute("href"));
        Assert.Contains("distilled-from", lineage.TextContent);
        // Only web addresses become links; other URIs stay text.
        Assert.NotNull(lineage.QuerySelector("a[href='https://data.example/tx']"));
        Assert.Null(lineage.QuerySelector("a[href='s3://bucket/raw']"));
        Assert.Contains("s3://bucket/raw", lineage.TextContent);
        Assert.Contains("9f2c1e7", lineage.TextContent);
    }

    [Fact]
    public void An_unknown_version_says_which_versions_exist()
    {
        var page = Context.Render<VersionPage>(p => p.Add(x => x.Name, "ghost").Add(x => x.Number, 3));
        page.WaitForAssertion(() => Assert.Contains("There is no model named 'ghost'", page.Find("[data-testid=not-found]").TextContent));
        // The page gives the domain's advice, never a REST route meant for API callers.
        Assert.Contains("list the models", page.Find("[data-testid=not-found]").TextContent);
        Assert.DoesNotContain("/api/", page.Find("[data-testid=not-found]").TextContent);
    }
}
