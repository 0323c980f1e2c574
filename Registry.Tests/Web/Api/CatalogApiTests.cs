using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Api;

public class CatalogApiTests : AppTests
{
    private Task<HttpResponseMessage> PostJson(string url, string json) =>
        Admin.PostAsync(url, Json(json));

    [Fact]
    public async Task Models_are_listed_by_name_with_search_tag_filter_and_paging()
    {
        (await PostJson("/api/v1/models", """{"name": "churn", "description": "Predicts customer churn", "tags": {"team": "growth"}}""")).EnsureSuccessStatusCode();
        (await PostJson("/api/v1/models", """{"name": "fraud", "description": "Card fraud scoring", "tags": {"team": "risk", "pii": ""}}""")).EnsureSuccessStatusCode();
        (await Admin.UploadAsync("alpha-ranker", OnnxModels.Identity())).EnsureSuccessStatusCode();

        var all = await (await Admin.GetAsync("/api/v1/models")).JsonAsync();
        Assert.Equal(3, all.GetProperty("total").GetInt32());
        Assert.Equal(["alpha-ranker", "churn", "fraud"], Names(all));
        var ranker = all.GetProperty("items")[0];
        Assert.Equal(1, ranker.GetProperty("latestVersion").GetInt32());
        Assert.Equal("Pending", ranker.GetProperty("latestValidation").GetString());

        Assert.Equal(["fraud"], Names(await (await Admin.GetAsync("/api/v1/models?q=FRAUD")).JsonAsync()));
        Assert.Equal(["churn"], Names(await (await Admin.GetAsync("/api/v1/models?q=customer")).JsonAsync()));
        Assert.Equal(["fraud"], Names(await (await Admin.GetAsync("/api/v1/models?tag=team%3Drisk")).JsonAsync()));
        Assert.Equal(["churn", "fraud"], Names(await (await Admin.GetAsync("/api/v1/models?tag=team")).JsonAsync()));
        Assert.Equal(["fraud"], Names(await (await Admin.GetAsync("/api/v1/models?tag=pii")).JsonAsync()));

        var page2 = await (await Admin.GetAsync("/api/v1/models?page=2&pageSize=2")).JsonAsync();
        Assert.Equal(["fraud"], Names(page2));
        Assert.Equal(3, page2.GetProperty("total").GetInt32());
        Assert.Equal(2, page2.GetProperty("page").GetInt32());
    }

    [Theory]
    [InlineData("pageSize=101", "pageSize must be between 1 and 100; got 101.")]
    [InlineData("pageSize=0", "pageSize must be between 1 and 100; got 0.")]
    [InlineData("page=0", "page starts at 1; got 0.")]
    public async Task Out_of_range_paging_is_a_bad_request(string query, string detail)
    {
        var problem = await (await Admin.GetAsync($"/api/v1/models?{query}")).ProblemAsync(400);
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Creating_a_model_twice_is_a_conflict_whatever_the_case()
    {
        var created = await PostJson("/api/v1/models", """{"name": "Scorer", "description": "d"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/models/Scorer", created.Headers.Location?.OriginalString);

        var again = await PostJson("/api/v1/models", """{"name": "scorer"}""");
        var problem = await again.ProblemAsync(409);
        Assert.Contains("already exists", problem.GetProperty("detail").GetString());

        var invalid = await PostJson("/api/v1/models", """{"name": "a..b"}""");
        var validation = await invalid.ProblemAsync(422);
        Assert.Contains("A model name must not contain '..'.", validation.GetProperty("errors").GetProperty("name")[0].GetString());
    }

    [Fact]
    public async Task Versions_are_listed_newest_first_and_unknown_ones_are_404_problems()
    {
        for (var i = 0; i < 3; i++) (await Admin.UploadAsync("m", OnnxModels.Identity($"{i}"))).EnsureSuccessStatusCode();

        var list = await (await Admin.GetAsync("/api/v1/models/m/versions?pageSize=2")).JsonAsync();
        Assert.Equal(3, list.GetProperty("total").GetInt32());
        Assert.Equal([3, 2], list.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("None", list.GetProperty("items")[0].GetProperty("stage").GetString());

        var missingVersion = await (await Admin.GetAsync("/api/v1/models/m/versions/7")).ProblemAsync(404);
        Assert.Equal("Model 'm' has no version 7; its versions are 1 to 3.", missingVersion.GetProperty("detail").GetString());
        var missingModel = await (await Admin.GetAsync("/api/v1/models/nope/versions")).ProblemAsync(404);
        Assert.Contains("There is no model named 'nope'", missingModel.GetProperty("detail").GetString());
        await (await Admin.GetAsync("/api/v1/models/nope")).ProblemAsync(404);
        await (await Admin.GetAsync("/api/v1/models/nope/versions/1/artifact")).ProblemAsync(404);
    }

    [Fact]
    public async Task Metrics_are_logged_in_batches_and_listed()
    {
        (await Admin.UploadAsync("m", OnnxModels.Identity(), """{"metrics": [{"key": "auc", "value": 0.9}]}""")).EnsureSuccessStatusCode();

        var logged = await PostJson("/api/v1/models/m/versions/1/metrics",
            """{"metrics": [{"key": "auc", "value": 0.93, "dataset": "holdout"}, {"key": "latency_ms", "value": 12.5}]}""");
        Assert.Equal(HttpStatusCode.Created, logged.StatusCode);

        var metrics = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/m/versions/1/metrics");
        Assert.Equal(
            ["auc@-=0.9", "auc@holdout=0.93", "latency_ms@-=12.5"],
            metrics.EnumerateArray().Select(m => $"{m.GetProperty("key").GetString()}@{(m.GetProperty("dataset").GetString() ?? "-")}={m.GetProperty("value").GetDouble()}"));

        var nan = await PostJson("/api/v1/models/m/versions/1/metrics", """{"metrics": [{"key": "auc", "value": "NaN"}]}""");
        await nan.ProblemAsync(422);
        var empty = await PostJson("/api/v1/models/m/versions/1/metrics", """{"metrics": []}""");
        await empty.ProblemAsync(422);
        var wrongVersion = await PostJson("/api/v1/models/m/versions/5/metrics", """{"metrics": [{"key": "auc", "value": 1}]}""");
        await wrongVersion.ProblemAsync(404);
        var notJson = await Admin.PostAsync("/api/v1/models/m/versions/1/metrics", new StringContent("auc=1"));
        var unsupported = await notJson.ProblemAsync(415);
        Assert.Contains("Content-Type: application/json", unsupported.GetProperty("detail").GetString());
        Assert.Equal(3, (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/models/m/versions/1/metrics")).GetArrayLength());
    }

    [Fact]
    public async Task Every_change_of_state_writes_one_audit_event()
    {
        await PostJson("/api/v1/models", """{"name": "audited"}""");
        await Admin.UploadAsync("audited", OnnxModels.Identity());
        await Admin.UploadAsync("fresh", OnnxModels.Identity());
        await PostJson("/api/v1/models/audited/versions/1/metrics", """{"metrics": [{"key": "auc", "value": 1}]}""");
        await Admin.UploadAsync("audited", []); // refused: no event

        var events = await App.DbAsync(db => Task.FromResult(db.AuditEvents.Where(e => !e.Action.StartsWith("key.")).OrderBy(e => e.Id)
            .Select(e => $"{e.Actor}: {e.Action} {e.Target}").ToList()));
        Assert.Equal(
        [
            "admin (key tests): model.created model:audited", "admin (key tests): version.created version:audited/1",
            "admin (key tests): version.created version:fresh/1", "admin (key tests): metrics.logged version:audited/1",
        ], events);
    }

    [Fact]
    public async Task Unknown_api_routes_and_methods_answer_with_problems()
    {
        var problem = await (await Admin.GetAsync("/api/v1/nothing-here")).ProblemAsync(404);
        Assert.Contains("No API endpoint matches '/api/v1/nothing-here'", problem.GetProperty("detail").GetString());
        await (await Admin.DeleteAsync("/api/v1/models")).ProblemAsync(405);
        await (await Admin.GetAsync("/api/v1/models/m/versions/abc")).ProblemAsync(404);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_upload_form()
    {
        var doc = await Admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var upload = doc.GetProperty("paths").GetProperty("/api/v1/models/{name}/versions").GetProperty("post");
        Assert.Equal("UploadVersion", upload.GetProperty("operationId").GetString());
        var form = upload.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("binary", form.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/v1/models/{name}/versions/{version}/artifact", out _));

        var reference = await Admin.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
    }

    [Fact]
    public async Task A_stored_artifact_that_no_longer_matches_its_digest_is_not_served_as_complete()
    {
        var bytes = OnnxModels.Linear(32, 32);
        (await Admin.UploadAsync("m", bytes)).EnsureSuccessStatusCode();
        var stored = Assert.Single(await App.StoredKeysAsync());
        var corrupted = bytes.ToArray();
        corrupted[^1] ^= 0xFF;
        await App.OverwriteStoredAsync(stored, corrupted);

        var failed = false;
        try
        {
            var response = await Admin.GetAsync("/api/v1/models/m/versions/1/artifact");
            var body = await response.Content.ReadAsByteArrayAsync();
            failed = !response.IsSuccessStatusCode || body.Length != bytes.Length;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            failed = true;
        }
        Assert.True(failed, "a corrupted artifact was served as a complete download");

        await App.OverwriteStoredAsync(stored, bytes[..100]);
        var truncatedResponse = await Admin.GetAsync("/api/v1/models/m/versions/1/artifact");
        var truncated = await truncatedResponse.ProblemAsync(500);
        Assert.Contains("do not match their recorded size", truncated.GetProperty("detail").GetString());
    }

    private static List<string> Names(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToList();
}
