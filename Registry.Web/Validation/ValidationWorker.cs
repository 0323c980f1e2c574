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
            var outcome = await runner.RunAsync(JobFor(claim), c => queue.RenewAsync(claim, c), ct);
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

    private SandboxJob JobFor(ValidationClaim claim) => new(
        store.LocalPath(claim.ModelStorageKey),
        claim.References.Where(r => r.Kind == ReferenceKind.Input).Select(r => new ReferenceFile(r.Name, store.LocalPath(r.StorageKey))).ToList(),
        claim.References.Where(r => r.Kind == ReferenceKind.Output).Select(r => new ReferenceFile(r.Name, store.LocalPath(r.StorageKey))).ToList(),
        claim.SmokeTestShapes,
        options.Value.ToLimits());
}
