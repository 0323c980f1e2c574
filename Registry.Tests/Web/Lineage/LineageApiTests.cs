using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Lineage;

/// <summary>
/// A small known graph across models:
/// teacher v1 (dataset imagenet, commit abc123) ← distilled-from ← student v1 (dataset imagenet, shared)
/// ← fine-tuned-from ← student v2 ← fine-tuned-from ← student v3; and other v1 with no lineage.
/// </summary>
public class LineageApiTests : AppTests
{
    private const string Imagenet = "dataset:imagenet@sha256:aaa";

    protected override async Task ArrangeAsync()
    {
        await UploadOkAsync("teacher", "t1", """{"lineage": {"datasets": [{"name": "imagenet", "uri": "s3://data/imagenet", "digest": "sha256:aaa"}], "source": {"commit": "abc123"}}}""");
        await UploadOkAsync("student", "s1", """{"lineage": {"parents": [{"model": "teacher", "version": 1, "relation": "distilled-from"}], "datasets": [{"name": "imagenet", "uri": "s3://data/imagenet", "digest": "sha256:aaa"}]}}""");
        await UploadOkAsync("student", "s2", """{"lineage": {"parents": [{"model": "student", "version": 1, "relation": "fine-tuned-from"}]}}""");
        await UploadOkAsync("student", "s3", """{"lineage": {"parents": [{"model": "student", "version": 2, "relation": "fine-tuned-from"}]}}""");
        await UploadOkAsync("other", "o1", null);
    }

    private async Task UploadOkAsync(string model, string tag, string? metadata)
    {
        var response = await Admin.UploadAsync(model, OnnxModels.Identity(tag), metadata);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> GraphAsync(string path)
    {
        var response = await Admin.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static List<string> Nodes(JsonElement graph) =>
        graph.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();

    private static List<string> Edges(JsonElement graph) =>
        graph.GetProperty("edges").EnumerateArray()
            .Select(e => $"{e.GetProperty("from").GetString()} {e.GetProperty("relation").GetString()} {e.GetProperty("to").GetString()}").ToList();

    [Fact]
    public async Task Upstream_follows_parents_across_models_level_by_level()
    {
        var one = await GraphAsync("/api/v1/models/student/versions/2/lineage?depth=1&direction=upstream");
        Assert.Equal("version:student/2", one.GetProperty("root").GetString());
        Assert.Equal(["version:student/2", Imagenet, "version:student/1"], Nodes(one));
        Assert.Equal([$"version:student/1 dataset {Imagenet}", "version:student/2 fine-tuned-from version:student/1"], Edges(one));
        Assert.False(one.GetProperty("truncated").GetBoolean());

        var two = await GraphAsync("/api/v1/models/student/versions/2/lineage?depth=2&direction=upstream");
        Assert.Equal(["version:student/2", Imagenet, "source:abc123", "version:student/1", "version:teacher/1"], Nodes(two));
        Assert.Equal([
            $"version:student/1 dataset {Imagenet}",
            "version:student/1 distilled-from version:teacher/1",
            "version:student/2 fine-tuned-from version:student/1",
            $"version:teacher/1 dataset {Imagenet}",
            "version:teacher/1 source source:abc123",
        ], Edges(two));

        var teacher = two.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == "version:teacher/1");
        Assert.Equal("version", teacher.GetProperty("kind").GetString());
        Assert.Equal("teacher", teacher.GetProperty("model").GetString());
        Assert.Equal(1, teacher.GetProperty("version").GetInt32());
        Assert.Equal("None", teacher.GetProperty("stage").GetString());
        Assert.Equal("/models/teacher/versions/1", teacher.GetProperty("href").GetString());
        Assert.False(teacher.TryGetProperty("uri", out _));
        var dataset = two.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == Imagenet);
        Assert.Equal(("dataset", "imagenet", "s3://data/imagenet", "sha256:aaa"),
            (dataset.GetProperty("kind").GetString(), dataset.GetProperty("name").GetString(), dataset.GetProperty("uri").GetString(), dataset.GetProperty("digest").GetString()));
    }

    [Fact]
    public async Task Downstream_follows_children_and_direction_filters()
    {
        var one = await GraphAsync("/api/v1/models/teacher/versions/1/lineage?depth=1&direction=downstream");
        Assert.Equal(["version:teacher/1", Imagenet, "source:abc123", "version:student/1"], Nodes(one));
        Assert.Equal([
            $"version:student/1 dataset {Imagenet}",
            "version:student/1 distilled-from version:teacher/1",
            $"version:teacher/1 dataset {Imagenet}",
            "version:teacher/1 source source:abc123",
        ], Edges(one));

        var two = await GraphAsync("/api/v1/models/TEACHER/versions/1/lineage?depth=2&direction=downstream");
        Assert.Equal(["version:teacher/1", Imagenet, "source:abc123", "version:student/1", "version:student/2"], Nodes(two));
        Assert.Contains("version:student/2 fine-tuned-from version:student/1", Edges(two));

        // Upstream of the teacher is only itself; downstream of the last student is only itself.
        Assert.Equal(["version:teacher/1", Imagenet, "source:abc123"], Nodes(await GraphAsync("/api/v1/models/teacher/versions/1/lineage?direction=upstream")));
        Assert.Equal(["version:student/3"], Nodes(await GraphAsync("/api/v1/models/student/versions/3/lineage?direction=downstream")));

        // Both ways (the default), depth 1: parents and children, not siblings of parents.
        var both = await GraphAsync("/api/v1/models/student/versions/2/lineage?depth=1");
        Assert.Equal(["version:student/2", Imagenet, "version:student/1", "version:student/3"], Nodes(both));
        Assert.Equal([
            $"version:student/1 dataset {Imagenet}",
            "version:student/2 fine-tuned-from version:student/1",
            "version:student/3 fine-tuned-from version:student/2",
        ], Edges(both));
        Assert.Equal(3, (await GraphAsync("/api/v1/models/student/versions/2/lineage")).GetProperty("depth").GetInt32());
        Assert.Equal(["version:other/1"], Nodes(await GraphAsync("/api/v1/models/other/versions/1/lineage")));
    }

    [Theory]
    [InlineData("depth=0")]
    [InlineData("depth=11")]
    [InlineData("depth=-1")]
    [InlineData("depth=two")]
    [InlineData("direction=sideways")]
    [InlineData("direction=1")]
    [InlineData("direction=upstream,downstream")]
    public async Task Depth_and_direction_outside_their_range_are_refused(string query)
    {
        var problem = await (await Admin.GetAsync($"/api/v1/models/student/versions/1/lineage?{query}")).ProblemAsync(400);
        Assert.Contains(query.Split('=')[0], problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Lineage_of_a_version_that_does_not_exist_is_not_found()
    {
        var problem = await (await Admin.GetAsync("/api/v1/models/student/versions/9/lineage")).ProblemAsync(404);
        Assert.Equal("Model 'student' has no version 9; its versions are 1 to 3.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_contributor_adds_parents_and_datasets_after_upload_with_one_audit_event()
    {
        var carol = await App.ClientAsAsync(Role.Contributor, user: "carol");
        var response = await carol.PostAsync("/api/v1/models/other/versions/1/lineage", Json("""
            {"parents": [{"model": "teacher", "version": 1, "relation": "distilled-from"}, {"model": "student", "version": 3, "relation": "retrained-from"}],
             "datasets": [{"name": "imagenet", "uri": "s3://data/imagenet", "digest": "sha256:aaa"}, {"name": "extra", "uri": "https://data.example/extra"}]}
            """));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var lineage = await response.JsonAsync();
        Assert.Equal(2, lineage.GetProperty("parents").GetArrayLength());
        Assert.Equal(2, lineage.GetProperty("datasets").GetArrayLength());

        var version = await (await Admin.GetAsync("/api/v1/models/other/versions/1")).JsonAsync();
        var parents = version.GetProperty("lineage").GetProperty("parents").EnumerateArray()
            .Select(p => $"{p.GetProperty("model").GetString()} v{p.GetProperty("version").GetInt32()} {p.GetProperty("relation").GetString()}").Order().ToList();
        Assert.Equal(["student v3 retrained-from", "teacher v1 distilled-from"], parents);

        var graph = await GraphAsync("/api/v1/models/teacher/versions/1/lineage?depth=1&direction=downstream");
        Assert.Contains("version:other/1 distilled-from version:teacher/1", Edges(graph));
        Assert.Contains($"version:other/1 dataset {Imagenet}", Edges(graph)); // the shared dataset is one node

        var events = await App.DbAsync(db => db.AuditEvents.Where(e => e.Action == "lineage.added").ToListAsync());
        var one = Assert.Single(events);
        Assert.Equal(("version:other/1", "carol (key key)"), (one.Target, one.Actor));
        Assert.Contains("distilled-from", one.After);
        Assert.Contains("https://data.example/extra", one.After);

        // Added later, then more again: lineage only grows.
        var more = await carol.PostAsync("/api/v1/models/other/versions/1/lineage", Json("""{"datasets": [{"name": "extra", "uri": "https://data.example/extra", "digest": "sha256:bbb"}]}"""));
        Assert.Equal(System.Net.HttpStatusCode.Created, more.StatusCode);
        Assert.Equal(3, (await more.JsonAsync()).GetProperty("datasets").GetArrayLength());
    }

    [Theory]
    [InlineData("student", 2, """{"parents": [{"model": "student", "version": 2, "relation": "fine-tuned-from"}]}""", 409, "parents[0]", "student v2 cannot be a parent of student v2: it is that version itself")]
    [InlineData("teacher", 1, """{"parents": [{"model": "other", "version": 1, "relation": "x"}, {"model": "student", "version": 3, "relation": "distilled-from"}]}""", 409, "parents[1]", "student v3 cannot be a parent of teacher v1: it descends from it (teacher v1 → student v1 → student v2 → student v3)")]
    [InlineData("student", 1, """{"parents": [{"model": "student", "version": 2, "relation": "x"}]}""", 409, "parents[0]", "(student v1 → student v2)")]
    [InlineData("student", 2, """{"parents": [{"model": "student", "version": 1, "relation": "retrained-from"}]}""", 409, "parents[0]", "student v1 is already a parent of student v2")]
    [InlineData("student", 1, """{"datasets": [{"name": "extra"}, {"name": "imagenet", "uri": "s3://data/imagenet", "digest": "sha256:aaa"}]}""", 409, "datasets[1]", "Dataset 'imagenet' is already recorded on student v1")]
    [InlineData("other", 1, """{"parents": [{"model": "teacher", "version": 7, "relation": "distilled-from"}]}""", 422, "parents[0]", "Model 'teacher' has no version 7; its versions are 1 to 1.")]
    [InlineData("other", 1, """{"parents": [{"model": "nobody", "version": 1, "relation": "distilled-from"}]}""", 422, "parents[0]", "There is no model named 'nobody'")]
    [InlineData("other", 1, """{"parents": [{"model": "teacher", "version": 1, "relation": "a"}, {"model": "Teacher", "version": 1, "relation": "b"}]}""", 422, "parents[1]", "Parent Teacher v1 is listed twice.")]
    [InlineData("other", 1, """{"parents": [{"model": "teacher", "version": 1, "relation": "Distilled From"}]}""", 422, "parents[0].relation", "A relation is lower-case words")]
    [InlineData("other", 1, """{"datasets": [{"name": "d", "uri": "javascript:alert(1)"}]}""", 422, "datasets[0].uri", "javascript:")]
    [InlineData("other", 1, """{}""", 422, "parents", "Send at least one parent or dataset")]
    [InlineData("other", 1, """{"source": {"commit": "abc"}}""", 400, "source", "")]
    [InlineData("other", 9, """{"datasets": [{"name": "d"}]}""", 404, null, "Model 'other' has no version 9")]
    public async Task Refused_additions_say_why_and_change_nothing(string model, int version, string body, int status, string? field, string message)
    {
        var before = await App.SnapshotAsync();
        var problem = await (await Admin.PostAsync($"/api/v1/models/{model}/versions/{version}/lineage", Json(body))).ProblemAsync(status);
        Assert.Contains(message, problem.GetProperty("detail").GetString());
        if (field is not null)
        {
            var errors = problem.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out var messages), $"expected an error at '{field}': {errors}");
            if (message.Length > 0) Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains(message, StringComparison.Ordinal));
        }
        Assert.Equal(before, await App.SnapshotAsync());
    }

    [Fact]
    public async Task A_viewer_may_read_lineage_but_not_add_to_it()
    {
        var viewer = await App.ClientAsAsync(Role.Viewer);
        Assert.True((await viewer.GetAsync("/api/v1/models/student/versions/1/lineage")).IsSuccessStatusCode);
        var readOnlyKey = await App.ClientAsAsync(Role.Contributor, Scopes.Read);
        var before = await App.SnapshotAsync();
        var denied = await App.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "access.denied"));
        await (await viewer.PostAsync("/api/v1/models/other/versions/1/lineage", Json("""{"datasets": [{"name": "d"}]}"""))).ProblemAsync(403);
        await (await readOnlyKey.PostAsync("/api/v1/models/other/versions/1/lineage", Json("""{"datasets": [{"name": "d"}]}"""))).ProblemAsync(403);
        Assert.Equal(before, await App.SnapshotAsync());
        Assert.Equal(denied + 2, await App.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action == "access.denied")));
    }

    [Fact]
    public async Task Recorded_lineage_rows_cannot_be_changed_or_removed()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => App.DbAsync(async db =>
        {
            var row = await db.VersionParents.FirstAsync();
            db.VersionParents.Remove(row);
            return await db.SaveChangesAsync();
        }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => App.DbAsync(async db =>
        {
            var v = await db.Versions.Include(x => x.Datasets).FirstAsync(x => x.Datasets.Count > 0);
            v.Datasets.Clear();
            return await db.SaveChangesAsync();
        }));
    }
}
