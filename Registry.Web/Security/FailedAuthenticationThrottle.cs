using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Registry.Web.Security;

/// <summary>
/// A budget of refused credentials per client address, checked before authentication: each request
/// whose bearer key is refused (401) spends one; an address with none left gets 429 at once, before
/// its key is looked up in the database. Guessing keys, or a client stuck on a revoked one, then costs
/// the server nothing. Budget: <see cref="RateLimitOptions.FailedAuthenticationsPerMinute"/>, refilled
/// evenly over the minute. Requests with no key, and accepted keys, spend nothing.
/// </summary>
internal sealed class FailedAuthenticationThrottle : IMiddleware, IDisposable
{
    private readonly TimeSpan _refill;
    private readonly PartitionedRateLimiter<string> _failures;

    public FailedAuthenticationThrottle(IOptions<RateLimitOptions> options)
    {
        var perMinute = options.Value.FailedAuthenticationsPerMinute;
        _refill = TimeSpan.FromMinutes(1) / perMinute;
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _refill,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (ApiKeyAuthenticationHandler.BearerToken(context.Request) is null)
        {
            await next(context);
            return;
        }
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        using (var left = _failures.AttemptAcquire(address, 0))
        {
            if (!left.IsAcquired)
            {
                var retry = Math.Max(1, (int)Math.Ceiling(_refill.TotalSeconds));
                await ApiRateLimit.WriteTooManyAsync(context, retry,
                    $"Too many refused API keys from this address; retry in {retry} s (Retry-After). Check that the key is current (My API keys shows yours). The budget is Registry:RateLimit:FailedAuthenticationsPerMinute.");
                return;
            }
        }
        await next(context);
        if (context.Response.StatusCode == StatusCodes.Status401Unauthorized) _failures.AttemptAcquire(address, 1).Dispose();
    }

    public void Dispose() => _failures.Dispose();
}
