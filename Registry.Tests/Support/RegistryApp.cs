using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Registry.Core.Persistence;

namespace Registry.Tests.Support;

/// <summary>The whole registry in-process, on its own temporary data folder.</summary>
public sealed class RegistryApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    private readonly bool _ownsDataDirectory;

    /// <param name="dataDirectory">A folder to reuse across app instances; the caller then deletes it.</param>
    public RegistryApp(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        _ownsDataDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? NewDataDirectory();
        // Validation runs sandboxes in the background; tests that are not about it leave it off.
        _settings = new Dictionary<string, string?> { ["Registry:Validation:Enabled"] = "false" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
        _settings["Registry:Storage:DataDirectory"] = DataDirectory;
    }

    public string DataDirectory { get; }

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "registry-tests", Guid.NewGuid().ToString("N"));

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => { if (Environment.GetEnvironmentVariable("REGISTRY_TEST_LOGS") is null) logging.ClearProviders(); });
    }

    public async Task<T> DbAsync<T>(Func<RegistryDbContext, Task<T>> query)
    {
        var factory = Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        return await query(db);
    }

    /// <summary>What a refusal must leave untouched: every row count and every file under the data folder.</summary>
    public async Task<string> SnapshotAsync()
    {
        var counts = await DbAsync(async db => new
        {
            models = await db.Models.CountAsync(),
            versions = await db.Versions.CountAsync(),
            artifacts = await db.Artifacts.CountAsync(),
            metrics = await db.Metrics.CountAsync(),
            parents = await db.VersionParents.CountAsync(),
            audit = await db.AuditEvents.CountAsync(),
            tags = await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS Value FROM ModelTags").SingleAsync()
                + await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS Value FROM VersionTags").SingleAsync(),
            datasets = await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS Value FROM VersionDatasets").SingleAsync(),
        });
        var files = Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(DataDirectory, f))
            .Where(f => !f.StartsWith("registry.db", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => $"{f} ({new FileInfo(Path.Combine(DataDirectory, f)).Length})");
        return JsonSerializer.Serialize(counts) + "\n" + string.Join("\n", files);
    }

    public IEnumerable<string> ArtifactFiles() =>
        Directory.EnumerateFiles(Path.Combine(DataDirectory, "artifacts"), "*", SearchOption.AllDirectories);

    public IEnumerable<string> TempFiles() =>
        Directory.Exists(Path.Combine(DataDirectory, "tmp"))
            ? Directory.EnumerateFiles(Path.Combine(DataDirectory, "tmp"))
            : [];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        // Pooled connections keep the database open after the host is gone.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsDataDirectory) return;
        try { Directory.Delete(DataDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}

public static class UploadRequests
{
    public static MultipartFormDataContent Form(byte[]? model, string? metadata = null, string fileName = "model.onnx")
    {
        var form = new MultipartFormDataContent();
        if (metadata is not null)
            form.Add(new StringContent(metadata, System.Text.Encoding.UTF8, "application/json"), "metadata");
        if (model is not null)
        {
            var file = new ByteArrayContent(model);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", fileName);
        }
        return form;
    }

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string model, byte[]? bytes, string? metadata = null) =>
        client.PostAsync($"/api/v1/models/{Uri.EscapeDataString(model)}/versions", Form(bytes, metadata));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts an RFC 9457 problem response and returns its body.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }
}
