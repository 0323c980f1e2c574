using Microsoft.Extensions.Options;
using Registry.Data;

namespace Registry.Web.Housekeeping;

/// <summary>
/// Runs the garbage collector once at start and then every <c>Registry:GarbageCollection:IntervalMinutes</c>
/// (the grace period, not the moment, is what protects work in flight). Only the server
/// collects, never a command-line command: a command may run beside a server that is mid-upload.
/// </summary>
internal sealed class GarbageCollectionWorker(GarbageCollector collector, IOptions<GarbageCollectionOptions> options, TimeProvider clock,
    ILogger<GarbageCollectionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        await Task.Yield();
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.IntervalMinutes), clock);
        do
        {
            try
            {
                await collector.CollectAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Garbage collection failed; it runs again at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
