using System.Net;
using Microsoft.EntityFrameworkCore;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

public class StartupTests
{
    [Fact]
    [Trait(TestBackend.Trait, TestBackend.SqliteOnly)]
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
    public async Task Started_from_another_folder_the_server_keeps_its_host_filter()
    {
        // As a service is started: cd /srv/registry && dotnet /opt/registry/Registry.Web.dll.
        var elsewhere = RegistryApp.NewDataDirectory();
        Directory.CreateDirectory(elsewhere);
        var data = Path.Combine(elsewhere, "data");
        try
        {
            using (var server = await ServerProcess.StartAsync(data, new Dictionary<string, string>(), workingDirectory: elsewhere))
            {
                using var client = server.Client();
                Assert.NotEqual(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/models")).StatusCode);
                using var foreign = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
                foreign.Headers.Host = "registry.attacker.example";
                Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(foreign)).StatusCode);
            }
            Assert.False(File.Exists(Path.Combine(elsewhere, "appsettings.json")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task A_restart_deletes_nothing_another_process_may_own_and_acknowledged_uploads_survive_it()
    {
        var dataDirectory = RegistryApp.NewDataDirectory();
        var bytes = OnnxModels.Linear();
        var leftover = Path.Combine(dataDirectory, "tmp", "upload-0123456789abcdef.part");
        var sandbox = Path.Combine(dataDirectory, "sandbox", "0123456789abcdef");
        await using (var first = new RegistryApp(dataDirectory: dataDirectory))
        {
            (await first.CreateClient().UploadAsync("kept", bytes)).EnsureSuccessStatusCode();
            // What an upload or a validation of another process, still running, holds.
            File.WriteAllBytes(leftover, new byte[1000]);
            Directory.CreateDirectory(sandbox);
        }

        try
        {
            await using var second = new RegistryApp(dataDirectory: dataDirectory);
            var download = await second.CreateClient().GetAsync("/api/v1/models/kept/versions/1/artifact");

            Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
            Assert.True(File.Exists(leftover), "a start-up deleted a temporary file that a running upload may own");
            Assert.True(Directory.Exists(sandbox), "a start-up deleted a sandbox folder that a running validation may own");
            Assert.Single(await second.StoredKeysAsync());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Registry:Database:Provider", "MySql", "Registry:Database:Provider is 'MySql'; it must be one of Sqlite, PostgreSql.")]
    [InlineData("Registry:Storage:Provider", "Azure", "Registry:Storage:Provider is 'Azure'; it must be one of FileSystem, S3.")]
    [InlineData("Registry:Database:Provider", "PostgreSql", "Registry:Database:ConnectionString is required with Registry:Database:Provider=PostgreSql")]
    public async Task A_bad_setting_stops_the_server_with_one_line_saying_what_to_fix(string key, string value, string message)
    {
        var data = RegistryApp.NewDataDirectory();
        try
        {
            var (exit, _, error) = await ServerProcess.RunCommandAsync($"--{key}={value}", "--Registry:Database:ConnectionString=",
                $"--Registry:Storage:DataDirectory={data}", "--urls", "http://127.0.0.1:0");

            Assert.Equal(2, exit);
            Assert.Contains($"registry: cannot start: {message}", error);
            Assert.DoesNotContain("   at ", error); // a message, not a stack trace
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task An_unreachable_database_stops_the_server_naming_where_it_looked_and_never_the_password()
    {
        var data = RegistryApp.NewDataDirectory();
        try
        {
            var (exit, output, error) = await ServerProcess.RunCommandAsync("--Registry:Database:Provider=PostgreSql",
                "--Registry:Database:ConnectionString=Host=127.0.0.1;Port=1;Database=catalogue;Username=registry;Password=hunter2-secret;Timeout=3",
                $"--Registry:Storage:DataDirectory={data}", "--urls", "http://127.0.0.1:0");

            Assert.Equal(2, exit);
            Assert.Contains("registry: cannot start: PostgreSQL at 127.0.0.1:1/catalogue cannot be reached or refused the login", error);
            Assert.Contains("Registry:Database:ConnectionString", error);
            Assert.DoesNotContain("hunter2-secret", error + output);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }
}
