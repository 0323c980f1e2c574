using Microsoft.Extensions.Options;
using Registry.Core.Catalog;
using Registry.Core.Storage;
using Registry.Core.Validation;

namespace Registry.Web.Validation;

/// <summary>
/// Claims validation jobs from the database queue and runs each in the sandbox. Its state lives in
/// the database: after a restart, a job whose lease expired is claimed again.
/// </summary>
internal sealed class ValidationWorker(
    ValidationQueue queue,
    ValidationSignal signal,
    SandboxRunner runner,
    SandboxLauncher launcher,
    IArtifactStore store,
    IOptions<ValidationOptions> options,
    ILogger<ValidationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            logger.LogWarning("Validation is disabled (Registry:Validation:Enabled=false): uploads stay Pending");
            return;
        }
        await Task.Yield();
        // Said once at start, in the log, when the walls cannot be had; each job then fails saying why.
        var walls = launcher.Walls();
        if (walls.IsAvailable) logger.LogInformation("Validation sandboxes run in {Isolation}", walls.Description);
        var owner = $"{Environment.MachineName}:{Environment.ProcessId}";
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(i => LoopAsync($"{owner}/{i}", stoppingToken)));
    }

    private async Task LoopAsync(string owner, CancellationToken ct)
    {
        var poll = TimeSpan.FromSeconds(options.Value.PollSeconds);
        while (!ct.IsCancellationRequested)
        {
            ValidationClaim? claim;
            try
            {
                claim = await queue.TryClaimAsync(owner, ct);
                if (claim is null)
                {
                    await signal.WaitAsync(poll, ct);
                    continue;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not claim a validation job; retrying");
                await Task.Delay(poll, CancellationToken.None);
                continue;
            }
            try
            {
                await ProcessAsync(claim, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Even reporting failed (the database is locked or full): the lease will expire and
                // the job be claimed again; this worker must live on.
                logger.LogError(ex, "Could not record the outcome of validation run {Run}; it will be retried when its lease expires", claim.RunId);
                await Task.Delay(poll, CancellationToken.None);
            }
        }
    }

    private async Task ProcessAsync(ValidationClaim claim, CancellationToken ct)
    {
        logger.LogInformation("Validating {Model} v{Version} (run {Run}, attempt {Attempt})", claim.Model, claim.Version, claim.RunId, claim.Attempt);
        try
        {
            // A remote store's bytes are copied to this machine for the sandbox's run only.
            var copies = new List<LocalArtifactCopy>();
            ValidationOutcome outcome;
            try
            {
                outcome = await runner.RunAsync(await CopyRenewingAsync(claim, copies, ct), c => queue.RenewAsync(claim, c), ct);
            }
            finally
            {
                foreach (var copy in copies) await copy.DisposeAsync();
            }
            if (await queue.CompleteAsync(claim, outcome, CancellationToken.None))
                logger.LogInformation("Validated {Model} v{Version}: {Summary}", claim.Model, claim.Version, outcome.Summary);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await queue.ReleaseAsync(claim, "the server is stopping", countAttempt: false, CancellationToken.None);
        }
        catch (LeaseLostException)
        {
            logger.LogWarning("Lost the lease on validation run {Run}; another worker owns it now", claim.RunId);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "The validator failed on run {Run} of {Model} v{Version}", claim.RunId, claim.Model, claim.Version);
            var reason = ex is SandboxUnavailableException ? ex.Message : $"an internal error ({ex.GetType().Name})";
            await queue.ReleaseAsync(claim, reason, countAttempt: true, CancellationToken.None);
        }
    }

    /// <summary>
    /// Makes the local copies while renewing the lease: copying a large model from a remote store can
    /// outlast the lease, and another instance must not take the job over meanwhile.
    /// </summary>
    private async Task<SandboxJob> CopyRenewingAsync(ValidationClaim claim, List<LocalArtifactCopy> copies, CancellationToken ct)
    {
        using var copying = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lost = false;
        var heartbeat = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), copying.Token);
                    if (!await queue.RenewAsync(claim, copying.Token)) { lost = true; return; }
                }
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        try
        {
            return await JobForAsync(claim, copies, ct);
        }
        finally
        {
            await copying.CancelAsync();
            await heartbeat;
            if (lost) throw new LeaseLostException();
        }
    }

    private async Task<SandboxJob> JobForAsync(ValidationClaim claim, List<LocalArtifactCopy> copies, CancellationToken ct)
    {
        async Task<string> LocalAsync(string storageKey)
        {
            var copy = await store.GetLocalCopyAsync(storageKey, ct)
                ?? throw new SandboxUnavailableException($"the stored bytes {storageKey} are missing from the artifact store");
            copies.Add(copy);
            return copy.Path;
        }

        var model = await LocalAsync(claim.ModelStorageKey);
        var inputs = new List<ReferenceFile>();
        var outputs = new List<ReferenceFile>();
        foreach (var r in claim.References)
            (r.Kind == ReferenceKind.Input ? inputs : outputs).Add(new ReferenceFile(r.Name, await LocalAsync(r.StorageKey)));
        return new SandboxJob(model, inputs, outputs, claim.SmokeTestShapes, options.Value.ToLimits());
    }
}
