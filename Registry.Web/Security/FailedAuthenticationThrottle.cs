using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Registry.Web.Security;

/// <summary>
/// A budget of refused credentials per client address, checked before authentication: each request
/// whose bearer key is refused (401) spends one; an address that spent
/// <see cref="RateLimitOptions.FailedAuthenticationsPerMinute"/> within a minute gets 429 at once,
/// before its key is looked up in the database, until that minute is over. Guessing keys, or a client
/// stuck on a revoked one, then costs the server nothing. Requests with no key, and accepted keys,
/// spend nothing. Time comes from the registry's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class FailedAuthenticationThrottle(IOptions<RateLimitOptions> options, TimeProvider clock) : IMiddleware
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Beyond this many addresses, windows that are over are dropped (at most once a window).</summary>
    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<string, Budget> _budgets = new();
    private DateTimeOffset _prunedAt = DateTimeOffset.MinValue;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (ApiKeyAuthenticationHandler.BearerToken(context.Request) is null)
        {
            await next(context);
            return;
        }
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var budget = _budgets.GetOrAdd(address, _ => new Budget());
        var now = clock.GetUtcNow();
        TimeSpan? wait;
        lock (budget)
        {
            if (now - budget.Since >= Window) (budget.Since, budget.Used) = (now, 0);
            wait = budget.Used >= options.Value.FailedAuthenticationsPerMinute ? budget.Since + Window - now : null;
            // Reserved before the request, so that guesses sent side by side cannot all pass the check.
            if (wait is null) budget.Used++;
        }
        if (wait is { } left)
        {
            var retry = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
            await ApiRateLimit.WriteTooManyAsync(context, retry,
                $"Too many refused API keys from this address; retry in {retry} s (Retry-After). Check that the key is current (My API keys shows yours). The budget is Registry:RateLimit:FailedAuthenticationsPerMinute.");
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            // Only a refusal spends it.
            if (context.Response.StatusCode != StatusCodes.Status401Unauthorized) lock (budget) budget.Used = Math.Max(0, budget.Used - 1);
        }
        if (_budgets.Count > PruneAbove && now - _prunedAt >= Window) Prune(now);
    }

    private void Prune(DateTimeOffset now)
    {
        // Once a window, not on every request while many addresses are inside theirs: a scan of every
        // address per refusal would make an attack from many addresses quadratic.
        _prunedAt = now;
        foreach (var (address, budget) in _budgets)
            if (now - budget.Since >= Window) _budgets.TryRemove(address, out _);
    }

    private sealed class Budget
    {
        public DateTimeOffset Since = DateTimeOffset.MinValue;
        public int Used;
    }
}
