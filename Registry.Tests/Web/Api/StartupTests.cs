using System.Net;
using Microsoft.EntityFrameworkCore;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

public class StartupTests
{
    [Fact]
    public async Task A_fresh_data_folder_gets_a_migrated_database_in_WAL_mode()
    {
        await using var app = new RegistryApp();
        var response = await app.CreateClient().GetAsync("/api/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "registry.db")));
        var mode = await app.DbAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            return (string?)await command.ExecuteScalarAsync();
        });
        Assert.Equal("wal", mode);
    }

    [Fact]
    public async Task Leftovers_of_an_interrupted_run_are_cleared_and_acknowledged_uploads_survive_a_restart()
    {
        var dataDirectory = RegistryApp.NewDataDirectory();
        var bytes = OnnxModels.Linear();
        await using (var first = new RegistryApp(dataDirectory: dataDirectory))
        {
            (await first.CreateClient().UploadAsync("kept", bytes)).EnsureSuccessStatusCode();
            // A stopped server may leave half an upload and a renamed file whose row never committed.
            File.WriteAllBytes(Path.Combine(dataDirectory, "tmp", "upload-0123456789abcdef.part"), new byte[1000]);
            var orphan = Path.Combine(dataDirectory, "artifacts", "sha256", "ff", new string('f', 64));
            Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
            File.WriteAllBytes(orphan, [1, 2, 3]);
        }

        try
        {
            await using var second = new RegistryApp(dataDirectory: dataDirectory);
            var download = await second.CreateClient().GetAsync("/api/v1/models/kept/versions/1/artifact");

            Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
            Assert.Empty(second.TempFiles());
            Assert.Single(second.ArtifactFiles());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
