using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Catalog;
using Registry.Core.Validation;
using Registry.Tests.Support;

namespace Registry.Tests.Web.Api;

/// <summary>The queue's promises, exercised directly: leases, stale results, bounded attempts, the stage rule.</summary>
// No worker runs here: the test plays the worker, so every claim is its own.
// Leases run on a manual clock: a stall of the machine between two steps cannot expire one, and
// an expiry is a step of the test rather than a sleep.
public class ValidationQueueTests : AppTests
{
    private readonly ManualClock _clock;

    public ValidationQueueTests() : this(new ManualClock()) { }

    private ValidationQueueTests(ManualClock clock) : base(new RegistryApp(new Dictionary<string, string?>
    {
        ["Registry:Validation:LeaseSeconds"] = "1",
        ["Registry:Validation:HeartbeatSeconds"] = "0.5",
        ["Registry:Validation:MaxAttempts"] = "2",
    }, clock: clock)) => _clock = clock;

    private ValidationQueue Queue => App.Services.GetRequiredService<ValidationQueue>();

    private async Task<Registry.Core.Access.Actor> AdminAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var admin = await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Registry.Core.Access.RegistryUser>>().FindByNameAsync("admin");
        return Registry.Core.Access.Actor.ForUser(admin!);
    }

    protected override async Task ArrangeAsync() => (await Admin.UploadAsync("queued", OnnxModels.Identity())).EnsureSuccessStatusCode();

    private static ValidationOutcome Passed => new(ValidationStatus.Passed, "Passed: every check succeeded.",
        [new CheckResult(CheckNames.Format, CheckStatus.Passed, "ok", 1)], new PerformanceFigures(3, 1, 2, 2, 5, 1 << 20), "onnxruntime test");

    private async Task<(ValidationStatus Version, int Runs, int Attempts)> StateAsync() => await App.DbAsync(async db =>
    {
        var version = await db.Versions.SingleAsync();
        var runs = await db.ValidationRuns.Where(r => r.VersionId == version.Id).ToListAsync();
        return (version.ValidationStatus, runs.Count, runs.Max(r => r.Attempts));
    });

    [Fact]
    public async Task A_claim_whose_lease_expired_is_claimed_again_and_the_stale_worker_cannot_report()
    {
        var first = await Queue.TryClaimAsync("worker-a", CancellationToken.None);
        Assert.NotNull(first);
        Assert.Equal(("queued", 1, 1), (first.Model, first.Version, first.Attempt));
        Assert.Null(await Queue.TryClaimAsync("worker-b", CancellationToken.None)); // leased
        Assert.Equal(ValidationStatus.Running, (await StateAsync()).Version);

        _clock.Advance(TimeSpan.FromSeconds(1.2)); // worker-a "dies": no heartbeat
        var second = await Queue.TryClaimAsync("worker-b", CancellationToken.None);
        Assert.NotNull(second);
        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.Token, second.Token);

        Assert.False(await Queue.RenewAsync(first, CancellationToken.None));
        Assert.False(await Queue.CompleteAsync(first, Passed, CancellationToken.None));
        Assert.True(await Queue.CompleteAsync(second, Passed, CancellationToken.None));
        Assert.False(await Queue.CompleteAsync(second, Passed, CancellationToken.None)); // exactly one result

        Assert.Equal((ValidationStatus.Passed, 1, 2), await StateAsync());
        var metrics = await App.DbAsync(db => db.Metrics.Where(m => m.IsSystem).Select(m => m.Key).OrderBy(k => k).ToListAsync());
        Assert.Equal(["latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "load_time_ms", "peak_rss_mb"], metrics);
    }

    [Fact]
    public async Task A_renewed_lease_keeps_the_job()
    {
        var claim = await Queue.TryClaimAsync("worker-a", CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(0.4));
            Assert.True(await Queue.RenewAsync(claim!, CancellationToken.None));
        }
        Assert.Null(await Queue.TryClaimAsync("worker-b", CancellationToken.None));
    }

    [Fact]
    public async Task Attempts_are_bounded_when_the_validator_keeps_dying()
    {
        await Queue.TryClaimAsync("a", CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1.2));
        await Queue.TryClaimAsync("b", CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1.2));

        Assert.Null(await Queue.TryClaimAsync("c", CancellationToken.None));
        var validation = (await Queue.GetLatestAsync("queued", 1, CancellationToken.None)).Value;
        Assert.Equal(ValidationStatus.Failed, validation.Status);
        Assert.Contains("stopped 2 times", validation.Summary);
    }

    [Fact]
    public async Task Infrastructure_failures_requeue_until_attempts_run_out_and_shutdown_does_not_count()
    {
        var claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        await Queue.ReleaseAsync(claim!, "the server is stopping", countAttempt: false, CancellationToken.None);
        Assert.Equal((ValidationStatus.Pending, 1, 0), await StateAsync());

        claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        await Queue.ReleaseAsync(claim!, "the sandbox program is missing", countAttempt: true, CancellationToken.None);
        Assert.Equal(ValidationStatus.Pending, (await StateAsync()).Version);
        claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        await Queue.ReleaseAsync(claim!, "the sandbox program is missing", countAttempt: true, CancellationToken.None);

        var validation = (await Queue.GetLatestAsync("queued", 1, CancellationToken.None)).Value;
        Assert.Equal(ValidationStatus.Failed, validation.Status);
        Assert.Contains("could not run (the sandbox program is missing) after 2 attempts", validation.Summary);
        Assert.Contains("not of the model", validation.Summary);
    }

    [Fact]
    public async Task Revalidation_is_refused_while_a_run_is_pending_or_running_and_accepted_after()
    {
        var client = App.CreateClient();
        var pending = await (await client.PostAsync("/api/v1/models/queued/versions/1/validation", null)).ProblemAsync(409);
        Assert.Contains("is already being validated (run 1 is Pending)", pending.GetProperty("detail").GetString());

        var claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        var running = await (await client.PostAsync("/api/v1/models/queued/versions/1/validation", null)).ProblemAsync(409);
        Assert.Contains("is Running", running.GetProperty("detail").GetString());

        await Queue.CompleteAsync(claim!, Passed, CancellationToken.None);
        var accepted = await client.PostAsync("/api/v1/models/queued/versions/1/validation", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        var view = await accepted.JsonAsync();
        Assert.Equal(("Pending", 2L), (view.GetProperty("status").GetString(), view.GetProperty("run").GetInt64()));
        Assert.Equal((ValidationStatus.Pending, 2, 1), await StateAsync());
    }

    [Fact]
    public async Task A_version_leaves_stage_None_only_after_its_validation_passed()
    {
        async Task<System.Text.Json.JsonElement> ValidationGateAsync()
        {
            var preview = await (await Admin.GetAsync("/api/v1/models/queued/versions/1/promotions/preview?targetStage=Staging")).JsonAsync();
            return preview.GetProperty("gates").EnumerateArray().Single(g => g.GetProperty("gate").GetString() == "validation");
        }

        var pending = await ValidationGateAsync();
        Assert.Equal(("Failed", "queued v1's validation is still Pending. Wait for it to pass."),
            (pending.GetProperty("status").GetString(), pending.GetProperty("message").GetString()));

        var claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        await Queue.CompleteAsync(claim!, new ValidationOutcome(ValidationStatus.Failed, "Failed smoke: boom",
            [new CheckResult(CheckNames.Smoke, CheckStatus.Failed, "The model failed to run.", 1)], null, null), CancellationToken.None);
        Assert.Contains("'s latest validation failed (failed check: smoke — The model failed to run.)", (await ValidationGateAsync()).GetProperty("message").GetString());

        await Queue.RequeueAsync("queued", 1, await AdminAsync(), CancellationToken.None);
        claim = await Queue.TryClaimAsync("a", CancellationToken.None);
        await Queue.CompleteAsync(claim!, Passed, CancellationToken.None);
        Assert.Equal("Passed", (await ValidationGateAsync()).GetProperty("status").GetString());
        await (await Admin.GetAsync("/api/v1/models/queued/versions/5/promotions/preview?targetStage=Staging")).ProblemAsync(404);
    }
}
