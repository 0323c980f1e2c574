using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Validation;

/// <summary>A claimed validation job: what to check, and the lease that entitles the worker to report on it.</summary>
public sealed record ValidationClaim(
    long RunId,
    Guid Token,
    int Attempt,
    string Model,
    int Version,
    string ModelStorageKey,
    IReadOnlyList<(ReferenceKind Kind, string Name, string StorageKey)> References,
    IReadOnlyDictionary<string, long[]>? SmokeTestShapes);

/// <summary>The verdict of one run, as the worker reports it.</summary>
public sealed record ValidationOutcome(
    ValidationStatus Status,
    string Summary,
    IReadOnlyList<CheckResult> Checks,
    PerformanceFigures? Figures,
    string? Runtime,
    string? Isolation = null);

/// <summary>
/// The validation queue, kept in the database so that a restart resumes it. A worker claims the
/// oldest pending run (or one whose lease expired) with a fresh token, renews the lease while it
/// works, and reports the outcome with that token; a report with a stale token is refused, so each
/// run has exactly one result however often it was claimed.
/// </summary>
public sealed class ValidationQueue(
    IDbContextFactory<RegistryDbContext> dbFactory,
    TimeProvider clock,
    IOptions<ValidationOptions> options,
    ValidationSignal signal,
    AccessGuard guard,
    ILogger<ValidationQueue> logger)
{
    public const string ValidatorActor = "validator";

    private ValidationOptions Options => options.Value;

    private TimeSpan Lease => TimeSpan.FromSeconds(Options.LeaseSeconds);

    /// <summary>Adds a pending run for a version to the unit of work (the upload's transaction).</summary>
    public static void Enqueue(RegistryDbContext db, ModelVersion version, string requestedBy, DateTimeOffset now) =>
        db.ValidationRuns.Add(new ValidationRun
        {
            Version = version,
            Status = ValidationStatus.Pending,
            QueuedAt = now,
            RequestedBy = requestedBy,
        });

    /// <summary>Claims the oldest run that is pending or whose lease has expired; null when there is none.</summary>
    public async Task<ValidationClaim?> TryClaimAsync(string owner, CancellationToken ct)
    {
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var now = clock.GetUtcNow();
            var run = await db.ValidationRuns
                .Where(r => r.Status == ValidationStatus.Pending || (r.Status == ValidationStatus.Running && r.LeaseExpiresAt < now))
                .OrderBy(r => r.Id)
                .Include(r => r.Version).ThenInclude(v => v.Model)
                .Include(r => r.Version).ThenInclude(v => v.Artifact)
                .Include(r => r.Version).ThenInclude(v => v.References).ThenInclude(x => x.Artifact)
                .AsSplitQuery()
                .FirstOrDefaultAsync(ct);
            if (run is null) return null;

            if (run.Status == ValidationStatus.Running && run.Attempts >= Options.MaxAttempts)
            {
                // The validator stopped mid-run this many times (killed server, lost worker): give up on it.
                await FinishAsync(db, run, new ValidationOutcome(ValidationStatus.Failed,
                    $"The validator stopped {run.Attempts} times while checking this version (the server was restarted or killed each time); giving up. Re-run the validation to try again.",
                    run.Checks, null, run.Runtime), now, ct);
                await tx.CommitAsync(ct);
                logger.LogWarning("Validation run {Run} of {Model} v{Version} abandoned after {Attempts} attempts", run.Id, run.Version.Model.Name, run.Version.Number, run.Attempts);
                continue;
            }

            if (run.Status == ValidationStatus.Running)
                logger.LogWarning("Reclaiming validation run {Run} of {Model} v{Version}: its lease held by {Owner} expired", run.Id, run.Version.Model.Name, run.Version.Number, run.LeaseOwner);
            run.Status = ValidationStatus.Running;
            run.Attempts++;
            run.LeaseToken = Guid.NewGuid();
            run.LeaseOwner = owner;
            run.LeaseExpiresAt = now + Lease;
            run.StartedAt ??= now;
            await SetVersionStatusIfLatestAsync(db, run, ValidationStatus.Running, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);

            var v = run.Version;
            signal.Announce(v.Model.Name, v.Number);
            return new ValidationClaim(run.Id, run.LeaseToken.Value, run.Attempts, v.Model.Name, v.Number, v.Artifact.StorageKey,
                v.References.OrderBy(r => r.Kind).ThenBy(r => r.Position).Select(r => (r.Kind, r.Name, r.Artifact.StorageKey)).ToList(),
                v.SmokeTestShapes);
        }
    }

    /// <summary>Extends the lease; false when the claim is no longer valid (reclaimed or finished elsewhere).</summary>
    public async Task<bool> RenewAsync(ValidationClaim claim, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var until = clock.GetUtcNow() + Lease;
        var renewed = await db.ValidationRuns
            .Where(r => r.Id == claim.RunId && r.LeaseToken == claim.Token && r.Status == ValidationStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseExpiresAt, until), ct);
        return renewed == 1;
    }

    /// <summary>Records the outcome; false (and nothing written) when the claim's lease is stale.</summary>
    public async Task<bool> CompleteAsync(ValidationClaim claim, ValidationOutcome outcome, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await db.ValidationRuns.Include(r => r.Version).ThenInclude(v => v.Model)
            .SingleOrDefaultAsync(r => r.Id == claim.RunId, ct);
        if (run is null || run.LeaseToken != claim.Token || run.Status != ValidationStatus.Running)
        {
            logger.LogWarning("Refused a late result for validation run {Run}: its lease is no longer held by this worker", claim.RunId);
            return false;
        }
        var now = clock.GetUtcNow();
        await FinishAsync(db, run, outcome, now, ct);
        try
        {
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }
        signal.Notify(claim.Model, claim.Version);
        return true;
    }

    /// <summary>
    /// The worker could not run the job for a reason of its own (not the model's). The run goes back
    /// to the queue, or fails once its attempts are spent. When the server is shutting down the
    /// attempt is not counted.
    /// </summary>
    public async Task ReleaseAsync(ValidationClaim claim, string reason, bool countAttempt, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await db.ValidationRuns.Include(r => r.Version).SingleOrDefaultAsync(r => r.Id == claim.RunId, ct);
        if (run is null || run.LeaseToken != claim.Token || run.Status != ValidationStatus.Running) return;
        var now = clock.GetUtcNow();
        if (!countAttempt) run.Attempts--;
        if (countAttempt && run.Attempts >= Options.MaxAttempts)
        {
            await FinishAsync(db, run, new ValidationOutcome(ValidationStatus.Failed,
                $"The validator could not run ({reason}) after {run.Attempts} attempts. This is a problem of the server, not of the model; an operator should look at the server log, then re-run the validation.",
                [], null, null), now, ct);
        }
        else
        {
            run.Status = ValidationStatus.Pending;
            run.LeaseToken = null;
            run.LeaseOwner = null;
            run.LeaseExpiresAt = null;
            await SetVersionStatusIfLatestAsync(db, run, ValidationStatus.Pending, ct);
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        signal.Notify(claim.Model, claim.Version);
    }

    /// <summary>Queues a new validation of a version (after a runtime upgrade, say); refused while one is pending or running.</summary>
    public async Task<Result<ValidationView>> RequeueAsync(string modelName, int versionNumber, Actor actor, CancellationToken ct)
    {
        if (await guard.DemandAsync(actor, Permission.Validate, ct) is { } denied) return denied;
        var normalized = RegisteredModel.Normalize(modelName);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var version = await db.Versions.Include(v => v.Model)
                .SingleOrDefaultAsync(v => v.Model.NormalizedName == normalized && v.Number == versionNumber, ct);
            if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);
            var latest = await db.ValidationRuns.Where(r => r.VersionId == version.Id).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
            if (latest is { Status: ValidationStatus.Pending or ValidationStatus.Running })
                return new RegistryError(ErrorKind.Conflict, "Validation in progress",
                    $"{version.Model.Name} v{version.Number} is already being validated (run {latest.Id} is {latest.Status}); wait for its result.");
            var now = clock.GetUtcNow();
            Enqueue(db, version, actor.AuditName, now);
            version.ValidationStatus = ValidationStatus.Pending;
            db.Record(now, actor, "validation.requested", $"version:{version.Model.Name}/{version.Number}",
                before: new { validationStatus = latest?.Status.ToString() }, after: new { validationStatus = nameof(ValidationStatus.Pending) });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Notify(modelName, versionNumber);
        return await GetLatestAsync(modelName, versionNumber, ct);
    }

    /// <summary>The latest validation run of a version, with its checks and figures.</summary>
    public async Task<Result<ValidationView>> GetLatestAsync(string modelName, int versionNumber, CancellationToken ct)
    {
        var normalized = RegisteredModel.Normalize(modelName);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.ValidationRuns.AsNoTracking()
            .Where(r => r.Version.Model.NormalizedName == normalized && r.Version.Number == versionNumber)
            .OrderByDescending(r => r.Id)
            .Select(r => new { Run = r, Model = r.Version.Model.Name })
            .FirstOrDefaultAsync(ct);
        if (run is null)
        {
            var exists = await db.Versions.AnyAsync(v => v.Model.NormalizedName == normalized && v.Number == versionNumber, ct);
            return exists
                ? RegistryError.NotFound($"{modelName} v{versionNumber} has never been validated; POST to this address to validate it.")
                : await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);
        }
        var r = run.Run;
        return new ValidationView(run.Model, versionNumber, r.Id, r.Status, r.Attempts, r.QueuedAt, r.StartedAt, r.FinishedAt,
            r.Summary, r.Checks, r.Figures, r.Runtime, r.RequestedBy, r.Isolation);
    }

    private async Task FinishAsync(RegistryDbContext db, ValidationRun run, ValidationOutcome outcome, DateTimeOffset now, CancellationToken ct)
    {
        var before = run.Status;
        run.Status = outcome.Status;
        run.Summary = outcome.Summary.Length > 4000 ? outcome.Summary[..3997] + "..." : outcome.Summary;
        run.Checks = outcome.Checks.ToList();
        run.Figures = outcome.Figures;
        run.Runtime = outcome.Runtime ?? run.Runtime;
        run.Isolation = outcome.Isolation ?? run.Isolation;
        run.FinishedAt = now;
        run.LeaseToken = null;
        run.LeaseOwner = null;
        run.LeaseExpiresAt = null;
        await SetVersionStatusIfLatestAsync(db, run, outcome.Status, ct);
        if (outcome.Figures is { } f)
        {
            foreach (var (key, value) in SystemMetrics(f))
                db.Metrics.Add(new Metric { VersionId = run.VersionId, Key = key, Value = value, LoggedAt = now, LoggedBy = ValidatorActor, IsSystem = true });
        }
        var model = await db.Models.Where(m => m.Id == run.Version.ModelId).Select(m => m.Name).SingleAsync(ct);
        db.Record(now, Actor.Validator, "validation.completed", $"version:{model}/{run.Version.Number}",
            before: new { validationStatus = before.ToString() },
            after: new { validationStatus = outcome.Status.ToString(), run = run.Id, summary = run.Summary });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The figures stored as metrics beside the user's, so that versions compare on them.</summary>
    public static IEnumerable<(string Key, double Value)> SystemMetrics(PerformanceFigures f)
    {
        yield return ("load_time_ms", Math.Round(f.LoadMs, 3));
        if (f.P50Ms is { } p50) yield return ("latency_p50_ms", Math.Round(p50, 3));
        if (f.P95Ms is { } p95) yield return ("latency_p95_ms", Math.Round(p95, 3));
        if (f.P99Ms is { } p99) yield return ("latency_p99_ms", Math.Round(p99, 3));
        if (f.PeakRssBytes > 0) yield return ("peak_rss_mb", Math.Round(f.PeakRssBytes / (1024.0 * 1024), 1));
    }

    public static readonly IReadOnlySet<string> SystemMetricKeys =
        new HashSet<string>(["load_time_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "peak_rss_mb"], StringComparer.OrdinalIgnoreCase);

    private static async Task SetVersionStatusIfLatestAsync(RegistryDbContext db, ValidationRun run, ValidationStatus status, CancellationToken ct)
    {
        var latestId = await db.ValidationRuns.Where(r => r.VersionId == run.VersionId).MaxAsync(r => r.Id, ct);
        if (latestId != run.Id) return;
        var version = run.Version ?? await db.Versions.SingleAsync(v => v.Id == run.VersionId, ct);
        version.ValidationStatus = status;
    }

    internal static string Describe(double ms) => ms.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>The latest validation run of a version, as the API and UI show it.</summary>
public sealed record ValidationView(
    string Model,
    int Version,
    long Run,
    ValidationStatus Status,
    int Attempts,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Summary,
    IReadOnlyList<CheckResult> Checks,
    PerformanceFigures? Figures,
    string? Runtime,
    string RequestedBy,
    string? Isolation);

/// <summary>
/// Wakes idle validation workers when work arrives and tells open pages when a version's validation
/// changed, so that neither has to poll often. News travels through the <see cref="IChangeSignal"/>,
/// so that a worker or a page of another instance hears of it too.
/// </summary>
public sealed class ValidationSignal
{
    private readonly SemaphoreSlim _work = new(0, int.MaxValue);
    private readonly IChangeSignal _changes;

    public ValidationSignal(IChangeSignal changes)
    {
        _changes = changes;
        changes.Received += OnReceived;
    }

    /// <summary>Raised with (model, version) when a run of that version changes state; model is null for "something changed".</summary>
    public event Action<string?, int>? Changed;

    /// <summary>New or returned work, and a changed run: wakes a worker and tells the pages.</summary>
    public void Notify(string? model, int version) => _changes.Publish(new ChangeNotice(ChangeTopics.ValidationWork, model, version));

    /// <summary>A run changed state; tells the pages only.</summary>
    public void Announce(string? model, int version) => _changes.Publish(new ChangeNotice(ChangeTopics.ValidationChanged, model, version));

    /// <summary>Waits until work may be available, or the timeout passes.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _work.WaitAsync(timeout, ct);

    private void OnReceived(ChangeNotice notice)
    {
        if (notice.Topic is ChangeTopics.ValidationWork or ChangeTopics.Resync && _work.CurrentCount < 64) _work.Release();
        if (notice.Topic is ChangeTopics.ValidationWork or ChangeTopics.ValidationChanged or ChangeTopics.Resync) Changed?.Invoke(notice.Model, notice.Version);
    }
}
