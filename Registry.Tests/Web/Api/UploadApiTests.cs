using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Registry.Core.Onnx.Proto;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

public class UploadApiTests : AppTests
{
    [Fact]
    public async Task Upload_answers_201_with_the_version_and_download_returns_the_same_bytes()
    {
        var bytes = OnnxModels.Linear(inFeatures: 8, outFeatures: 3);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        const string metadata = """
            {"description": "first cut", "tags": {"team": "risk"},
             "metrics": [{"key": "auc", "value": 0.931, "dataset": "holdout"}],
             "lineage": {"datasets": [{"name": "tx", "uri": "s3://b/tx", "digest": "sha256:1"}],
                         "source": {"commit": "9f2c1e7", "runUrl": "https://ci.example/runs/1"},
                         "params": {"lr": 0.01}}}
            """;

        var response = await Admin.UploadAsync("fraud-detector", bytes, metadata);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/v1/models/fraud-detector/versions/1", response.Headers.Location?.OriginalString);
        var v = await response.JsonAsync();
        Assert.Equal("fraud-detector", v.GetProperty("model").GetString());
        Assert.Equal(1, v.GetProperty("version").GetInt32());
        Assert.Equal(sha, v.GetProperty("sha256").GetString());
        Assert.Equal(bytes.Length, v.GetProperty("sizeBytes").GetInt64());
        Assert.Equal("None", v.GetProperty("stage").GetString());
        Assert.Equal("Pending", v.GetProperty("validationStatus").GetString());
        Assert.Equal("admin (key tests)", v.GetProperty("createdBy").GetString());
        Assert.True(v.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var input = v.GetProperty("signature").GetProperty("inputs")[0];
        Assert.Equal("x", input.GetProperty("name").GetString());
        Assert.Equal("tensor(float)", input.GetProperty("type").GetString());
        Assert.Equal("""["batch",8]""", input.GetProperty("shape").GetRawText());
        Assert.Equal(8 * 3 + 3, v.GetProperty("signature").GetProperty("parameterCount").GetInt64());
        var metric = v.GetProperty("metrics")[0];
        Assert.Equal(("auc", 0.931, "holdout"), (metric.GetProperty("key").GetString(), metric.GetProperty("value").GetDouble(), metric.GetProperty("dataset").GetString()));
        var lineage = v.GetProperty("lineage");
        Assert.Equal("9f2c1e7", lineage.GetProperty("source").GetProperty("commit").GetString());
        Assert.Equal("s3://b/tx", lineage.GetProperty("datasets")[0].GetProperty("uri").GetString());
        Assert.Equal(0.01, lineage.GetProperty("params").GetProperty("lr").GetDouble());

        var download = await Admin.GetAsync($"{response.Headers.Location}/artifact");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var downloaded = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(bytes, downloaded);
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(downloaded)));
        Assert.Equal($"\"sha256:{sha}\"", download.Headers.ETag?.ToString());
        Assert.Equal("fraud-detector-v1.onnx", download.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Empty(App.TempFiles());
    }

    [Fact]
    public async Task Download_honours_If_None_Match_and_Range()
    {
        var bytes = OnnxModels.Linear(16, 16);
        (await Admin.UploadAsync("ranged", bytes)).EnsureSuccessStatusCode();
        const string url = "/api/v1/models/ranged/versions/1/artifact";
        var etag = (await Admin.GetAsync(url)).Headers.ETag!;

        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(etag);
        var notModified = await Admin.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(10, 19);
        var partial = await Admin.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[10..20], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 10-19/{bytes.Length}", partial.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Two_uploads_of_the_same_bytes_are_two_versions_sharing_one_stored_file()
    {
        var bytes = OnnxModels.Identity();
        var first = await (await Admin.UploadAsync("dedup", bytes)).JsonAsync();
        var second = await (await Admin.UploadAsync("dedup", bytes)).JsonAsync();
        var other = await (await Admin.UploadAsync("dedup-elsewhere", bytes)).JsonAsync();

        Assert.Equal([1, 2], new[] { first.GetProperty("version").GetInt32(), second.GetProperty("version").GetInt32() });
        Assert.Equal(first.GetProperty("sha256").GetString(), second.GetProperty("sha256").GetString());
        Assert.Equal(1, other.GetProperty("version").GetInt32());
        var stored = Assert.Single(await App.StoredKeysAsync());
        var sha = first.GetProperty("sha256").GetString()!;
        Assert.Equal($"sha256/{sha[..2]}/{sha}", stored);
        Assert.Equal(1, await App.DbAsync(db => Task.FromResult(db.Artifacts.Count())));
        Assert.Empty(App.TempFiles());
    }

    [Fact]
    public async Task Concurrent_uploads_to_one_model_get_distinct_consecutive_numbers()
    {
        const int uploads = 12;
        var responses = await Task.WhenAll(Enumerable.Range(0, uploads).Select(i =>
            Admin.UploadAsync("concurrent", OnnxModels.Identity(producerVersion: $"build-{i}"))));

        foreach (var r in responses) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var numbers = new List<int>();
        foreach (var r in responses) numbers.Add((await r.JsonAsync()).GetProperty("version").GetInt32());
        Assert.Equal(Enumerable.Range(1, uploads), numbers.Order());
        var model = await (await Admin.GetAsync("/api/v1/models/concurrent")).JsonAsync();
        Assert.Equal(uploads, model.GetProperty("latestVersion").GetInt32());
        Assert.Equal(uploads, (await App.StoredKeysAsync()).Count);
    }

    [Fact]
    public async Task Model_names_ignore_case_and_keep_the_first_spelling()
    {
        (await Admin.UploadAsync("Fraud-Detector", OnnxModels.Identity())).EnsureSuccessStatusCode();
        var second = await (await Admin.UploadAsync("fraud-detector", OnnxModels.Identity("2"))).JsonAsync();

        Assert.Equal("Fraud-Detector", second.GetProperty("model").GetString());
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        var models = await (await Admin.GetAsync("/api/v1/models")).JsonAsync();
        Assert.Equal(1, models.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Lineage_parents_link_to_existing_versions()
    {
        (await Admin.UploadAsync("teacher", OnnxModels.Linear(seed: 1))).EnsureSuccessStatusCode();
        var response = await Admin.UploadAsync("student", OnnxModels.Linear(seed: 2),
            """{"lineage": {"parents": [{"model": "Teacher", "version": 1, "relation": "distilled-from"}]}}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var parent = (await response.JsonAsync()).GetProperty("lineage").GetProperty("parents")[0];
        Assert.Equal(("teacher", 1, "distilled-from"),
            (parent.GetProperty("model").GetString(), parent.GetProperty("version").GetInt32(), parent.GetProperty("relation").GetString()));
    }

    public static TheoryData<string> Refusals() =>
    [
        "empty file", "random bytes", "html page", "truncated model", "protobuf without graph", "ir_version 0",
        "missing file part", "malformed metadata", "metadata field of wrong type", "NaN metric", "infinite metric",
        "unknown parent version", "bad model name", "over-long description", "over-long tag", "unexpected part",
        "not multipart", "declared digest of another file", "malformed declared digest",
    ];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Each_bad_upload_is_refused_with_a_specific_problem_and_leaves_nothing_behind(string refusal)
    {
        // Something already in the catalogue, so "unchanged" is not the same as "empty".
        (await Admin.UploadAsync("existing", OnnxModels.Linear(), """{"metrics": [{"key": "auc", "value": 0.9}]}""")).EnsureSuccessStatusCode();
        var before = await App.SnapshotAsync();

        var model = OnnxModels.Linear(32, 32, seed: 7);
        var (response, status, field, text) = refusal switch
        {
            "empty file" => (await Admin.UploadAsync("m", []), 422, null, "The file is empty (0 bytes)"),
            "random bytes" => (await Admin.UploadAsync("m", RandomBytes(10_000)), 422, null, "not an ONNX model"),
            "html page" => (await Admin.UploadAsync("m", Encoding.UTF8.GetBytes("<!DOCTYPE html><html><head><title>Login</title></head></html>")), 422, null, "is an HTML page"),
            "truncated model" => (await Admin.UploadAsync("m", model[..(model.Length / 2)]), 422, null, "truncated"),
            "protobuf without graph" => (await Admin.UploadAsync("m", new ModelHeader { IrVersion = 8 }.ToByteArray()), 422, null, "has no graph"),
            "ir_version 0" => (await Admin.UploadAsync("m", new ModelHeader { Graph = new GraphHeader { Name = "g" } }.ToByteArray()), 422, null, "has no ir_version"),
            "missing file part" => (await Admin.UploadAsync("m", null, """{"description": "no file"}"""), 400, null, "no 'file' part"),
            "malformed metadata" => (await Admin.UploadAsync("m", model, """{"description": """), 400, null, "The metadata"),
            "metadata field of wrong type" => (await Admin.UploadAsync("m", model, """{"tags": ["a", "b"]}"""), 400, "tags", "expected an object"),
            "NaN metric" => (await Admin.UploadAsync("m", model, """{"metrics": [{"key": "loss", "value": "NaN"}]}"""), 422, "metrics[0].value", "Metric 'loss' must be a finite number; got NaN."),
            "infinite metric" => (await Admin.UploadAsync("m", model, """{"metrics": [{"key": "loss", "value": "-Infinity"}]}"""), 422, "metrics[0].value", "got -Infinity"),
            "unknown parent version" => (await Admin.UploadAsync("m", model, """{"lineage": {"parents": [{"model": "existing", "version": 9, "relation": "fine-tuned-from"}]}}"""), 422, "lineage.parents[0]", "Model 'existing' has no version 9; its versions are 1 to 1."),
            "bad model name" => (await Admin.UploadAsync("bad name!", model), 422, "name", "may contain only letters, digits"),
            "over-long description" => (await Admin.UploadAsync("m", model, $$"""{"description": "{{new string('x', 5001)}}"}"""), 422, "description", "at most 5000 characters"),
            "over-long tag" => (await Admin.UploadAsync("m", model, $$$"""{"tags": {"note": "{{{new string('x', 501)}}}"}}"""), 422, "tags.note", "at most 500 characters"),
            "unexpected part" => (await Admin.PostAsync("/api/v1/models/m/versions", WithExtraPart(model)), 400, null, "Unexpected part 'weights'"),
            "not multipart" => (await Admin.PostAsync("/api/v1/models/m/versions", new ByteArrayContent(model)), 400, null, "multipart/form-data"),
            // The digest of what is already stored: staging at that address must leave it as it was.
            "declared digest of another file" => (await Admin.UploadAsync("m", model, $$"""{"sha256": "{{Sha256Of(OnnxModels.Linear())}}"}"""), 400, null,
                $"has SHA-256 {Sha256Of(model)}, not the {Sha256Of(OnnxModels.Linear())} declared in metadata.sha256; nothing was kept"),
            "malformed declared digest" => (await Admin.UploadAsync("m", model, """{"sha256": "sha256:abc"}"""), 422, "sha256", "64 hex digits"),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal)),
        };

        var problem = await response.ProblemAsync(status);
        Assert.Contains(text, field is null ? problem.GetProperty("detail").GetString() : ErrorsAt(problem, field));
        Assert.Equal(before, await App.SnapshotAsync());
        Assert.Empty(App.TempFiles());
    }

    [Fact]
    public async Task A_declared_digest_is_checked_against_the_file_whichever_part_comes_first()
    {
        var model = OnnxModels.Linear(16, 4, seed: 3);
        var sha = Sha256Of(model);

        // Declared before the file (in any case of hex), as a pipeline that knows its digest sends it.
        var accepted = await Admin.UploadAsync("declared", model, $$"""{"sha256": "{{sha.ToUpperInvariant()}}"}""");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        Assert.Equal(sha, (await accepted.JsonAsync()).GetProperty("sha256").GetString());
        var downloaded = await Admin.GetByteArrayAsync("/api/v1/models/declared/versions/1/artifact");
        Assert.Equal(model, downloaded);

        // Declared after the file: the file was staged unchecked, and is refused once the declaration is read.
        var before = await App.SnapshotAsync();
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(model);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "model.onnx");
        form.Add(new StringContent($$"""{"sha256": "{{new string('0', 64)}}"}""", Encoding.UTF8, "application/json"), "metadata");
        var refused = await Admin.PostAsync("/api/v1/models/declared/versions", form);

        var problem = await refused.ProblemAsync(400);
        Assert.Contains($"has SHA-256 {sha}, not the {new string('0', 64)} declared", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await App.SnapshotAsync());
        Assert.Empty(App.TempFiles());
    }

    private static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task An_upload_over_the_size_limit_is_refused_with_413_and_nothing_kept()
    {
        await using var app = new RegistryApp(new Dictionary<string, string?> { ["Registry:Upload:MaxFileBytes"] = "4096" });
        var client = app.CreateClient();
        (await client.UploadAsync("small", OnnxModels.Identity())).EnsureSuccessStatusCode();
        var before = await app.SnapshotAsync();

        var response = await client.UploadAsync("big", OnnxModels.Linear(64, 64));

        var problem = await response.ProblemAsync(413);
        Assert.Contains("larger than the limit of 4 KiB", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await app.SnapshotAsync());
        Assert.Empty(app.TempFiles());
    }

    [Fact]
    public async Task A_client_filename_is_never_used_as_a_path()
    {
        var form = UploadRequests.Form(OnnxModels.Identity(), fileName: "../../evil.onnx");
        var response = await Admin.PostAsync("/api/v1/models/safe/versions", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sha = (await response.JsonAsync()).GetProperty("sha256").GetString()!;
        var stored = Assert.Single(await App.StoredKeysAsync());
        Assert.Equal(sha, stored.Split('/')[^1]);
        // Nothing named after the client's file exists anywhere near the data folder.
        var root = Path.GetDirectoryName(App.DataDirectory)!;
        Assert.Empty(Directory.EnumerateFiles(root, "evil.onnx", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Concurrent_uploads_of_the_same_new_bytes_store_one_file()
    {
        var bytes = OnnxModels.Linear(128, 128, seed: 11);
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Admin.UploadAsync($"twin-{i % 2}", bytes)));

        foreach (var r in responses) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Single(await App.StoredKeysAsync());
        Assert.Equal(bytes, await Admin.GetByteArrayAsync("/api/v1/models/twin-0/versions/1/artifact"));
        Assert.Equal(1, await App.DbAsync(db => Task.FromResult(db.Artifacts.Count())));
        Assert.Equal(6, await App.DbAsync(db => Task.FromResult(db.Versions.Count())));
        Assert.Empty(App.TempFiles());
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "https://evil.example")]
    public async Task A_browser_request_from_another_site_cannot_upload(string header, string value)
    {
        var before = await App.SnapshotAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models/m/versions") { Content = UploadRequests.Form(OnnxModels.Identity()) };
        request.Headers.TryAddWithoutValidation(header, value);

        var problem = await (await Admin.SendAsync(request)).ProblemAsync(403);

        Assert.Contains("may not change this registry", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await App.SnapshotAsync());
    }

    [Fact]
    public async Task The_registrys_own_pages_may_upload()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/models/m/versions") { Content = UploadRequests.Form(OnnxModels.Identity()) };
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        request.Headers.TryAddWithoutValidation("Origin", "http://localhost");

        Assert.Equal(HttpStatusCode.Created, (await Admin.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task A_request_for_a_host_name_the_registry_does_not_answer_to_is_refused()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
        request.Headers.Host = "registry.attacker.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task An_upload_cut_off_mid_body_leaves_nothing_behind()
    {
        (await Admin.UploadAsync("existing", OnnxModels.Identity())).EnsureSuccessStatusCode();
        var before = await App.SnapshotAsync();
        var form = new MultipartFormDataContent { { new StreamContent(new FailingStream(OnnxModels.Linear(256, 256), failAfter: 100_000)), "file", "model.onnx" } };

        try
        {
            var response = await Admin.PostAsync("/api/v1/models/cut/versions", form);
            Assert.False(response.IsSuccessStatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The client sees its own failure; what matters is what the server kept.
        }

        Assert.True(await Eventually.HoldsAsync(() => !App.TempFiles().Any()), "the broken upload's temporary file was never removed");
        Assert.Equal(before, await App.SnapshotAsync());
    }

    /// <summary>A request body that breaks partway, like a client that disconnects.</summary>
    private sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            Position >= failAfter ? throw new IOException("connection reset by peer") : base.Read(buffer, offset, Math.Min(count, 8192));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position >= failAfter ? throw new IOException("connection reset by peer") : base.ReadAsync(buffer[..Math.Min(buffer.Length, 8192)], cancellationToken);
    }

    private static string ErrorsAt(JsonElement problem, string field)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"no errors in {problem}");
        Assert.True(errors.TryGetProperty(field, out var messages), $"no error for '{field}' in {errors}");
        return string.Join(" ", messages.EnumerateArray().Select(m => m.GetString()));
    }

    private static byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        new Random(3).NextBytes(bytes);
        return bytes;
    }

    private static MultipartFormDataContent WithExtraPart(byte[] model)
    {
        var form = UploadRequests.Form(model);
        form.Add(new ByteArrayContent([1, 2, 3]), "weights", "weights.bin");
        return form;
    }
}
