using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

public class CrashRecoveryTests
{
    [Fact]
    public async Task A_validation_interrupted_by_kill_9_completes_once_after_restart()
    {
        var data = RegistryApp.NewDataDirectory();
        var settings = new Dictionary<string, string>
        {
            ["Registry:Validation:LeaseSeconds"] = "2",
            ["Registry:Validation:HeartbeatSeconds"] = "0.5",
            ["Registry:Validation:PollSeconds"] = "0.2",
            ["Registry:Validation:PerformanceRuns"] = "1",
            // Bounds, not expectations: on a loaded machine one run of the loop takes tens of seconds,
            // and the run after the restart still makes its smoke run and one timed run.
            ["Registry:Validation:TimeoutSeconds"] = "150",
            ["Registry:Admin:InitialPassword"] = RegistryApp.AdminPassword,
        };
        try
        {
            int[] orphans;
            string key;
            using (var first = await ServerProcess.StartAsync(data, settings))
            {
                // An automated setup's first key, from the command line.
                var (exit, output, error) = await ServerProcess.RunCommandAsync("apikey", "create", "--user", "admin", "--scopes", "read,write", "--name", "ci",
                    $"--Registry:Storage:DataDirectory={data}");
                Assert.True(exit == 0, error);
                key = output.Trim();
                var client = first.Client(key);
                // About three seconds of looping per run: long enough to be killed in the middle.
                (await client.UploadAsync("slow", AdversarialModels.Loop(6_000_000))).EnsureSuccessStatusCode();
                // The run is claimed (and its model copied out of the store) before its sandbox starts.
                orphans = [];
                Assert.True(await Eventually.HoldsAsync(() => (orphans = [.. first.SandboxChildren()]).Length > 0), "no sandbox ever started");

                first.KillHard();
            }

            // The sandbox notices its server is gone and stops, rather than running on unwatched.
            // (It checks every 500 ms. The bound stays below the three runs of the loop the sandbox would
            // otherwise finish on its own, so that one that never noticed cannot pass.)
            await Eventually.HoldsAsync(() => !orphans.Any(ProcessTable.IsAlive), TimeSpan.FromSeconds(8));
            Assert.DoesNotContain(orphans, ProcessTable.IsAlive);

            using var second = await ServerProcess.StartAsync(data, settings);
            var validation = await Validations.WaitAsync(second.Client(key), "slow", 1, TimeSpan.FromSeconds(180));

            Assert.Equal("Passed", validation.GetProperty("status").GetString());
            Assert.Equal(2, validation.GetProperty("attempts").GetInt32());
            // Over a real connection the audit log records where each change came from.
            var upload = await (await second.Client(key).GetAsync("/api/v1/audit?action=version.created")).JsonAsync();
            Assert.Equal(("admin (key ci)", "127.0.0.1"),
                (upload.GetProperty("items")[0].GetProperty("actor").GetString(), upload.GetProperty("items")[0].GetProperty("clientAddress").GetString()));
            await using var app = new RegistryApp(dataDirectory: data);
            second.Dispose();
            var (runs, completions) = await app.DbAsync(async db => (
                await db.ValidationRuns.CountAsync(),
                await db.AuditEvents.CountAsync(e => e.Action == "validation.completed")));
            Assert.Equal((1, 1), (runs, completions));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
