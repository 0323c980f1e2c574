using System.Net.Http.Headers;
using Microsoft.AspNetCore.Identity;
using Registry.Core.Access;
using Registry.Web.Security;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Registry.Core.Persistence;
using Registry.Core.Storage;

namespace Registry.Tests.Support;

/// <summary>The whole registry in-process, on its own temporary data folder.</summary>
public sealed class RegistryApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    private readonly bool _ownsDataDirectory;

    private readonly TimeProvider? _clock;

    private readonly Action<IServiceCollection>? _testServices;

    /// <param name="dataDirectory">A folder to reuse across app instances; the caller then deletes it.</param>
    /// <param name="clock">The app's clock, in place of the system's (a <see cref="ManualClock"/>, say).</param>
    /// <param name="testServices">Registrations added after the app's own (faults to inject, say).</param>
    public RegistryApp(IDictionary<string, string?>? settings = null, string? dataDirectory = null, TimeProvider? clock = null,
        Action<IServiceCollection>? testServices = null)
    {
        _clock = clock;
        _ownsDataDirectory = dataDirectory is null;
        _testServices = testServices;
        DataDirectory = dataDirectory ?? NewDataDirectory();
        // Validation runs sandboxes in the background; tests that are not about it leave it off.
        _settings = new Dictionary<string, string?>
        {
            ["Registry:Validation:Enabled"] = "false",
            ["Registry:Admin:InitialPassword"] = AdminPassword,
            // Tests that are not about the request budgets never meet them: how many requests a test
            // makes in a minute depends on how fast the machine is (the full conformance set, polling,
            // ran past 600 a minute on a quiet one). The tests of the budgets set their own.
            ["Registry:RateLimit:PermitsPerMinute"] = "1000000",
            ["Registry:RateLimit:FailedAuthenticationsPerMinute"] = "1000000",
        };
        foreach (var (key, value) in TestBackend.SettingsFor(DataDirectory)) _settings[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
        _settings["Registry:Storage:DataDirectory"] = DataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>The settings this registry runs with: the back-end's, the test's, the data folder.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>The first admin's password in tests (set through configuration, so no forced change).</summary>
    public const string AdminPassword = "admin-password-for-tests";

    private string? _adminKey;

    /// <summary>Clients made by <c>CreateClient()</c> act as the admin, through an API key named "tests".</summary>
    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        _adminKey ??= CreateKeyAsync(AdminAccount.UserName, Scopes.All, "tests").GetAwaiter().GetResult();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminKey);
    }

    /// <summary>A client without credentials.</summary>
    public HttpClient AnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>A client that behaves like a browser: keeps cookies, does not follow redirects, sends no key.</summary>
    public HttpClient BrowserClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>A client acting through a key of a (new) service account with this role and these scopes.</summary>
    public async Task<HttpClient> ClientAsAsync(Role role, Scopes scopes = Scopes.All, string? user = null)
    {
        user ??= $"{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..24];
        await EnsureServiceAccountAsync(user, role);
        var allowed = scopes & RoleScopes.Allowed(role);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await CreateKeyAsync(user, allowed, "key"));
        return client;
    }

    public async Task EnsureServiceAccountAsync(string name, Role role)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>();
        if (await users.FindByNameAsync(name) is not null) return;
        var created = await users.CreateAsync(new RegistryUser { UserName = name, Role = role, IsService = true, CreatedAt = DateTimeOffset.UtcNow });
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
    }

    /// <summary>A person who signs in with this password (no forced change).</summary>
    public async Task CreatePersonAsync(string name, Role role, string password)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>();
        var created = await users.CreateAsync(new RegistryUser { UserName = name, Role = role, CreatedAt = DateTimeOffset.UtcNow }, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
    }

    /// <summary>Creates a key directly (the database is the authority in tests, as the command line is in production).</summary>
    public async Task<string> CreateKeyAsync(string user, Scopes scopes, string name, DateTimeOffset? expires = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var owner = await scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>().FindByNameAsync(user)
            ?? throw new InvalidOperationException($"no user {user}");
        var actor = Actor.ForUser(owner) with { Via = "tests" };
        var created = await Services.GetRequiredService<ApiKeyService>().CreateAsync(actor, null,
            new CreateKeyRequest { Name = name, Scopes = RoleScopes.Describe(scopes).Split(',').ToList(), ExpiresAt = expires });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value.Secret;
    }

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "registry-tests", Guid.NewGuid().ToString("N"));

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => { if (Environment.GetEnvironmentVariable("REGISTRY_TEST_LOGS") is null) logging.ClearProviders(); });
        if (_clock is { } clock) builder.ConfigureTestServices(services => services.AddSingleton(clock));
        if (_testServices is not null) builder.ConfigureTestServices(_testServices);
    }

    public async Task<T> DbAsync<T>(Func<RegistryDbContext, Task<T>> query)
    {
        var factory = Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        return await query(db);
    }

    /// <summary>
    /// What a refusal must leave untouched: every row count and every file under the data folder. The
    /// audit count leaves out <c>access.denied</c>, the record of a forbidden write, which a refusal adds.
    /// </summary>
    public async Task<string> SnapshotAsync()
    {
        var counts = await DbAsync(async db => new
        {
            models = await db.Models.CountAsync(),
            versions = await db.Versions.CountAsync(),
            artifacts = await db.Artifacts.CountAsync(),
            metrics = await db.Metrics.CountAsync(),
            parents = await db.VersionParents.CountAsync(),
            audit = await db.AuditEvents.CountAsync(e => e.Action != "access.denied"),
            tags = await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"ModelTags\"").SingleAsync()
                + await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"VersionTags\"").SingleAsync(),
            datasets = await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"VersionDatasets\"").SingleAsync(),
        });
        var files = Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(DataDirectory, f))
            .Where(f => !f.StartsWith("registry.db", StringComparison.Ordinal))
            .Select(f => $"{f} ({new FileInfo(Path.Combine(DataDirectory, f)).Length})");
        var stored = (await StoredObjectsAsync()).Select(o => $"stored {o.StorageKey} ({o.SizeBytes})");
        return JsonSerializer.Serialize(counts) + "\n" + string.Join("\n", files.Concat(stored).Order(StringComparer.Ordinal));
    }

    /// <summary>What the artifact store holds, whichever store it is.</summary>
    public async Task<IReadOnlyList<StoredObject>> StoredObjectsAsync()
    {
        var list = new List<StoredObject>();
        await foreach (var o in Services.GetRequiredService<IArtifactMaintenance>().ListAsync(CancellationToken.None)) list.Add(o);
        return list;
    }

    /// <summary>The storage keys the artifact store holds.</summary>
    public async Task<IReadOnlyList<string>> StoredKeysAsync() => (await StoredObjectsAsync()).Select(o => o.StorageKey).ToList();

    /// <summary>Replaces stored bytes behind the registry's back, as rot or tampering would.</summary>
    public async Task OverwriteStoredAsync(string storageKey, byte[] bytes)
    {
        if (TestBackend.UsesServers)
        {
            await Services.GetRequiredService<Amazon.S3.IAmazonS3>().PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
            {
                BucketName = TestBackend.S3Bucket,
                Key = Settings["Registry:Storage:S3:Prefix"] + storageKey,
                InputStream = new MemoryStream(bytes),
                UseChunkEncoding = false,
            });
        }
        else
        {
            await File.WriteAllBytesAsync(Path.Combine(DataDirectory, "artifacts", storageKey), bytes);
        }
    }

    /// <summary>Uploads being received and local copies: the data folder's tmp/, on every back-end.</summary>
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
        if (TestBackend.UsesPostgreSql) await TestBackend.DropAsync(DataDirectory);
        try { Directory.Delete(DataDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}

/// <summary>
/// Base of API test classes that each get a registry of their own (xUnit makes one instance per
/// test), with a client holding the admin's full key.
/// </summary>
public abstract class AppTests(RegistryApp app) : IAsyncLifetime
{
    protected AppTests() : this(new RegistryApp()) { }

    protected RegistryApp App { get; } = app;

    /// <summary>Created before each test, so the app has started and the key's own audit event is behind it.</summary>
    protected HttpClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Admin = App.CreateClient();
        await ArrangeAsync();
    }

    /// <summary>What every test of the class starts from.</summary>
    protected virtual Task ArrangeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public static class UploadRequests
{
    /// <summary>A JSON request body.</summary>
    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static MultipartFormDataContent Form(byte[]? model, string? metadata = null, string fileName = "model.onnx")
    {
        var form = new MultipartFormDataContent();
        if (metadata is not null)
            form.Add(Json(metadata), "metadata");
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
