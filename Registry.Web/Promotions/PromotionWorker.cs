using Microsoft.Extensions.Options;
using Registry.Core.Promotions;
using Registry.Core.Validation;

namespace Registry.Web.Promotions;

/// <summary>
/// Applies promotion requests that became ready without anyone acting on them: a validation
/// finished, a metric was logged, a policy was relaxed. It looks when told and every
/// <see cref="PromotionOptions.SweepSeconds"/>, and once at start, so that a request that became
/// ready while the server was down is applied when it comes back.
/// </summary>
internal sealed class PromotionWorker(
    IServiceScopeFactory scopes,
    PromotionSignal signal,
    ValidationSignal validation,
    IOptions<PromotionOptions> options,
    ILogger<PromotionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        validation.Changed += OnValidationChanged;
        try
        {
            var sweep = TimeSpan.FromSeconds(options.Value.SweepSeconds);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var applied = await scope.ServiceProvider.GetRequiredService<PromotionService>().ApplyReadyAsync(stoppingToken);
                    if (applied > 0) logger.LogInformation("Applied {Count} promotion request(s) that had become ready", applied);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "Could not look at open promotion requests; trying again later");
                }
                try
                {
                    await signal.WaitAsync(sweep, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            validation.Changed -= OnValidationChanged;
        }
    }

    private void OnValidationChanged(string? model, int version) => signal.Nudge();
}
