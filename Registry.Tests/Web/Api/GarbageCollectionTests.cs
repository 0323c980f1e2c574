using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Registry.Core.Persistence;
using Registry.Core.Storage;
using Registry.Data;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

public class GarbageCollectionTests() : AppTests(new RegistryApp(new Dictionary<string, string?> { ["Registry:GarbageCollection:Enabled"] = "false" }))
{
    /// <summary>Bytes committed to the store with no version row: what a crash between commit and transaction leaves.</summary>
    private async Task<string> OrphanAsync(byte[] bytes)
    {
        var store = App.Services.GetRequiredService<IArtifactStore>();
        await using var staged = (await store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None)).Value;
        return await store.CommitAsync(staged, CancellationToken.None);
    }

    /// <summary>The app's collector, with its clock moved on by <paramref name="later"/>.</summary>
    private GarbageCollector CollectorAt(TimeSpan later) => new(
        App.Services.GetRequiredService<IArtifactStore>(),
        App.Services.GetRequiredService<IArtifactMaintenance>(),
        App.Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>(),
        App.Services.GetRequiredService<DataPaths>(),
        Options.Create(new GarbageCollectionOptions { GraceMinutes = 60 }),
        new ShiftedClock(later),
        NullLogger<GarbageCollector>.Instance);

    private string Leftover(string relative)
    {
        var path = Path.Combine(App.DataDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[100]);
        return path;
    }

    [Fact]
    public async Task Nothing_younger_than_the_grace_period_is_removed()
    {
        (await Admin.UploadAsync("kept", OnnxModels.Linear())).EnsureSuccessStatusCode();
        var orphan = await OrphanAsync(OnnxModels.Linear(seed: 7));
        var upload = Leftover("tmp/upload-0123456789abcdef.part");
        var sandbox = Leftover("sandbox/0123456789abcdef/model.onnx");

        var report = await CollectorAt(TimeSpan.FromMinutes(59)).CollectAsync(CancellationToken.None);

        Assert.True(report.IsEmpty, string.Join(", ", report.Temporary.Concat(report.Sandboxes).Concat(report.Artifacts)));
        Assert.True(File.Exists(upload) && File.Exists(sandbox));
        Assert.Contains(orphan, await App.StoredKeysAsync());
    }

    [Fact]
    public async Task Past_the_grace_period_leftovers_and_unreferenced_artifacts_go_and_what_a_version_uses_stays()
    {
        var bytes = OnnxModels.Linear();
        var kept = (await (await Admin.UploadAsync("kept", bytes)).JsonAsync()).GetProperty("sha256").GetString()!;
        var orphan = await OrphanAsync(OnnxModels.Linear(seed: 7));
        var upload = Leftover("tmp/upload-0123456789abcdef.part");
        var sandbox = Leftover("sandbox/0123456789abcdef/model.onnx");

        var report = await CollectorAt(TimeSpan.FromMinutes(61)).CollectAsync(CancellationToken.None);

        Assert.Equal([orphan], report.Artifacts);
        Assert.Equal(OnnxModels.Linear(seed: 7).Length, report.ArtifactBytes);
        Assert.Contains("tmp/upload-0123456789abcdef.part", report.Temporary);
        Assert.Equal(["sandbox/0123456789abcdef"], report.Sandboxes);
        Assert.False(File.Exists(upload) || Directory.Exists(Path.GetDirectoryName(sandbox)));
        Assert.Equal([StorageKeys.Of(kept)], await App.StoredKeysAsync());
        Assert.Equal(bytes, await Admin.GetByteArrayAsync("/api/v1/models/kept/versions/1/artifact"));
    }

    [Fact]
    public async Task A_command_and_a_second_start_up_during_an_upload_leave_that_upload_intact()
    {
        // A real server, so that the request reaches it while its body is still being sent.
        await using var app = new RegistryApp(new Dictionary<string, string?> { ["Registry:GarbageCollection:Enabled"] = "false" });
        app.UseKestrel(0);
        app.StartServer();
        var admin = app.CreateClient();
        var bytes = OnnxModels.Linear(1024, 768, seed: 3); // about 3 MiB: several chunks
        var form = UploadRequests.Form(bytes);
        var body = await form.ReadAsByteArrayAsync();
        // Sent by hand over a socket, so that half the body is on the wire while the rest waits.
        var address = admin.BaseAddress!;
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var wire = socket.GetStream();
        var head = $"POST /api/v1/models/in-flight/versions HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: {admin.DefaultRequestHeaders.Authorization}\r\n" +
            $"Content-Type: {form.Headers.ContentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await wire.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await wire.WriteAsync(body.AsMemory(0, body.Length / 2));
        await wire.FlushAsync();
        Assert.True(await Eventually.HoldsAsync(() => app.TempFiles().Any()), "the upload never began staging");

        // What the README recommends for automated set-ups, and a second server on the same data.
        var (exit, key, error) = await ServerProcess.RunCommandAsync("apikey", "create", "--user", "admin", "--scopes", "read", "--name", "during-upload",
            $"--Registry:Storage:DataDirectory={app.DataDirectory}");
        Assert.True(exit == 0, error);
        await using (var second = new RegistryApp(new Dictionary<string, string?>(app.Settings) { ["Registry:GarbageCollection:Enabled"] = "true" },
            dataDirectory: app.DataDirectory))
        {
            var client = second.AnonymousClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", key.Trim());
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);
            // And a collection on it, at the edge of the grace period, leaves the upload's file alone.
            var report = await new GarbageCollector(second.Services.GetRequiredService<IArtifactStore>(), second.Services.GetRequiredService<IArtifactMaintenance>(),
                second.Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>(), second.Services.GetRequiredService<DataPaths>(),
                Options.Create(new GarbageCollectionOptions { GraceMinutes = 60 }), new ShiftedClock(TimeSpan.FromMinutes(59)),
                NullLogger<GarbageCollector>.Instance).CollectAsync(CancellationToken.None);
            Assert.Empty(report.Temporary);
        }
        Assert.NotEmpty(app.TempFiles());

        await wire.WriteAsync(body.AsMemory(body.Length / 2));
        await wire.FlushAsync();
        var answer = await new StreamReader(wire).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 201", answer);
        Assert.Equal(bytes, await admin.GetByteArrayAsync("/api/v1/models/in-flight/versions/1/artifact"));
        Assert.Empty(app.TempFiles());
    }

    private sealed class ShiftedClock(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }
}
