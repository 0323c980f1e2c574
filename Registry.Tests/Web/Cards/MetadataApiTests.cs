using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Cards;

/// <summary>PATCH of a model's and a version's description, tags and card.</summary>
public class MetadataApiTests : AppTests
{
    protected override async Task ArrangeAsync()
    {
        (await Admin.PostAsync("/api/v1/models", Json("""{"name": "Scorer", "description": "first words", "tags": {"team": "risk", "pii": ""}}""")))
            .EnsureSuccessStatusCode();
        (await Admin.UploadAsync("Scorer", OnnxModels.Identity(), """{"description": "v1", "tags": {"run": "7"}}""")).EnsureSuccessStatusCode();
    }

    private static Dictionary<string, string> TagsOf(JsonElement view) =>
        view.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    [Fact]
    public async Task A_model_patch_changes_only_the_fields_sent_and_null_clears()
    {
        var card = "# Scorer\n\nScores **transactions**.";
        var patched = await (await Admin.PatchAsync("/api/v1/models/scorer", Json(JsonSerializer.Serialize(new { card })))).JsonAsync();
        Assert.Equal(card, patched.GetProperty("card").GetString());
        Assert.Equal("first words", patched.GetProperty("description").GetString());
        Assert.Equal(new Dictionary<string, string> { ["team"] = "risk", ["pii"] = "" }, TagsOf(patched));

        var got = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer");
        Assert.Equal(card, got.GetProperty("card").GetString());

        // Tags replace the whole set; a null description clears it; the card is kept.
        var second = await Admin.PatchAsync("/api/v1/models/Scorer", Json("""{"description": null, "tags": {"team": "growth", "tier": "1"}}"""));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        got = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer");
        Assert.Equal(JsonValueKind.Null, got.GetProperty("description").ValueKind);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "growth", ["tier"] = "1" }, TagsOf(got));
        Assert.Equal(card, got.GetProperty("card").GetString());

        // Null tags and card clear them; merge-patch content type is accepted too.
        var clear = new StringContent("""{"tags": null, "card": null}""", System.Text.Encoding.UTF8, "application/merge-patch+json");
        (await Admin.PatchAsync("/api/v1/models/Scorer", clear)).EnsureSuccessStatusCode();
        got = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer");
        Assert.Empty(TagsOf(got));
        Assert.Equal(JsonValueKind.Null, got.GetProperty("card").ValueKind);
    }

    [Fact]
    public async Task A_version_patch_edits_its_words_and_leaves_the_rest_as_uploaded()
    {
        var before = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer/versions/1");
        var patched = await Admin.PatchAsync("/api/v1/models/Scorer/versions/1",
            Json("""{"description": "retrained on May data", "tags": {"run": "8", "owner": "ana"}, "card": "## Intended use\n\nFraud triage."}"""));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer/versions/1");
        Assert.Equal("retrained on May data", after.GetProperty("description").GetString());
        Assert.Equal(new Dictionary<string, string> { ["run"] = "8", ["owner"] = "ana" }, TagsOf(after));
        Assert.Equal("## Intended use\n\nFraud triage.", after.GetProperty("card").GetString());
        foreach (var kept in new[] { "sha256", "sizeBytes", "stage", "signature", "lineage", "createdAt", "createdBy" })
            Assert.Equal(before.GetProperty(kept).GetRawText(), after.GetProperty(kept).GetRawText());

        (await Admin.PatchAsync("/api/v1/models/Scorer/versions/1", Json("""{"card": null}"""))).EnsureSuccessStatusCode();
        after = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer/versions/1");
        Assert.Equal(JsonValueKind.Null, after.GetProperty("card").ValueKind);
        Assert.Equal("retrained on May data", after.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Invalid_fields_are_refused_by_json_path_and_change_nothing()
    {
        var tooLong = new string('x', 100_001);
        var body = JsonSerializer.Serialize(new { description = new string('d', 5001), card = tooLong, tags = new Dictionary<string, string> { ["bad key!"] = "v" } });
        foreach (var url in new[] { "/api/v1/models/Scorer", "/api/v1/models/Scorer/versions/1" })
        {
            var problem = await (await Admin.PatchAsync(url, Json(body))).ProblemAsync(422);
            var errors = problem.GetProperty("errors");
            Assert.Contains("5000", errors.GetProperty("description")[0].GetString());
            Assert.Contains("100,000", errors.GetProperty("card")[0].GetString());
            Assert.Contains("tag key", errors.GetProperty("tags.bad key!")[0].GetString());

            var wrongType = await (await Admin.PatchAsync(url, Json("""{"tags": {"a": 1}}"""))).ProblemAsync(400);
            Assert.True(wrongType.GetProperty("errors").TryGetProperty("tags.a", out _), wrongType.GetRawText());
            var typo = await (await Admin.PatchAsync(url, Json("""{"descripton": "x"}"""))).ProblemAsync(400);
            Assert.Contains("descripton", typo.GetProperty("detail").GetString());
        }
        var model = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer");
        Assert.Equal("first words", model.GetProperty("description").GetString());
        Assert.Equal(0, await App.DbAsync(db => db.AuditEvents.CountAsync(e => e.Action.EndsWith(".updated"))));
    }

    [Fact]
    public async Task Unknown_models_and_versions_are_404_and_viewers_are_403()
    {
        await (await Admin.PatchAsync("/api/v1/models/nobody", Json("""{"card": "x"}"""))).ProblemAsync(404);
        await (await Admin.PatchAsync("/api/v1/models/Scorer/versions/9", Json("""{"card": "x"}"""))).ProblemAsync(404);
        await (await Admin.PatchAsync("/api/v1/models/nobody/versions/1", Json("""{"card": "x"}"""))).ProblemAsync(404);

        var viewer = await App.ClientAsAsync(Role.Viewer);
        await (await viewer.PatchAsync("/api/v1/models/Scorer", Json("""{"card": "x"}"""))).ProblemAsync(403);
        await (await viewer.PatchAsync("/api/v1/models/Scorer/versions/1", Json("""{"card": "x"}"""))).ProblemAsync(403);
        var readKey = await App.ClientAsAsync(Role.Contributor, Scopes.Read);
        await (await readKey.PatchAsync("/api/v1/models/Scorer", Json("""{"card": "x"}"""))).ProblemAsync(403);

        var contributor = await App.ClientAsAsync(Role.Contributor);
        (await contributor.PatchAsync("/api/v1/models/Scorer", Json("""{"card": "by a contributor"}"""))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Each_change_is_audited_with_before_and_after_and_a_no_op_is_not()
    {
        (await Admin.PatchAsync("/api/v1/models/Scorer", Json("""{"description": "second words", "card": "hello"}"""))).EnsureSuccessStatusCode();
        (await Admin.PatchAsync("/api/v1/models/Scorer/versions/1", Json("""{"tags": {"run": "8"}}"""))).EnsureSuccessStatusCode();
        (await Admin.PatchAsync("/api/v1/models/Scorer", Json("""{"description": "second words"}"""))).EnsureSuccessStatusCode(); // unchanged
        (await Admin.PatchAsync("/api/v1/models/Scorer", Json("{}"))).EnsureSuccessStatusCode();

        var events = await App.DbAsync(db => db.AuditEvents.Where(e => e.Action.EndsWith(".updated")).OrderBy(e => e.Id)
            .Select(e => new { e.Action, e.Target, e.Before, e.After }).ToListAsync());
        Assert.Equal(2, events.Count);
        Assert.Equal(("model.updated", "model:Scorer"), (events[0].Action, events[0].Target));
        Assert.Equal("""{"description":"first words","card":null}""", events[0].Before);
        Assert.Equal("""{"description":"second words","card":"hello"}""", events[0].After);
        Assert.Equal(("version.updated", "version:Scorer/1"), (events[1].Action, events[1].Target));
        Assert.Equal("""{"tags":{"run":"7"}}""", events[1].Before);
        Assert.Equal("""{"tags":{"run":"8"}}""", events[1].After);
        var verify = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        Assert.True(verify.GetProperty("intact").GetBoolean(), verify.GetRawText());
    }

    [Fact]
    public async Task The_database_still_refuses_any_other_change_to_a_version()
    {
        var refused = await App.DbAsync(async db =>
        {
            var version = await db.Versions.SingleAsync();
            version.Description = "allowed";
            version.Card = "allowed";
            db.Entry(version).Property(v => v.SourceCommit).CurrentValue = "rewritten";
            return await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        });
        Assert.Equal("Versions are immutable; attempted to change SourceCommit.", refused.Message);

        await App.DbAsync(async db =>
        {
            var version = await db.Versions.SingleAsync();
            version.Description = "allowed";
            version.Card = "allowed";
            return await db.SaveChangesAsync();
        });
        Assert.Equal("allowed", (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/Scorer/versions/1")).GetProperty("card").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_both_patches_with_plain_fields()
    {
        var doc = await Admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        foreach (var (path, id) in new[] { ("/api/v1/models/{name}", "UpdateModel"), ("/api/v1/models/{name}/versions/{version}", "UpdateVersion") })
        {
            var patch = doc.GetProperty("paths").GetProperty(path).GetProperty("patch");
            Assert.Equal(id, patch.GetProperty("operationId").GetString());
            Assert.True(patch.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/merge-patch+json", out _));
        }
        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty("UpdateMetadataRequest");
        Assert.Equal(["description", "tags", "card"], schema.GetProperty("properties").EnumerateObject().Select(p => p.Name));
    }
}
