using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Registry.Web.Security;

/// <summary>API request budget (configuration section <c>Registry:RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Registry:RateLimit";

    /// <summary>Requests each API key (or signed-in person, or address when anonymous) may make per minute, in bursts up to the same number. Default 600.</summary>
    public int PermitsPerMinute { get; set; } = 600;

    /// <summary>
    /// Refused credentials (an unknown, expired or revoked key) each client address may present per
    /// minute, in bursts up to the same number; past it the address gets 429 before any key is looked
    /// up. Default 30.
    /// </summary>
    public int FailedAuthenticationsPerMinute { get; set; } = 30;
}

/// <summary>A token bucket per caller on <c>/api</c>: by key prefix, else user, else client address.</summary>
internal static class ApiRateLimit
{
    public static PartitionedRateLimiter<HttpContext> Create() => PartitionedRateLimiter.Create<HttpContext, string>(http =>
    {
        if (!http.Request.Path.StartsWithSegments("/api")) return RateLimitPartition.GetNoLimiter("ui");
        var permits = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerMinute;
        var token = ApiKeyAuthenticationHandler.BearerToken(http.Request);
        var caller = token is not null ? "key:" + token[..Math.Min(token.Length, 16)]
            : http.User.Identity?.IsAuthenticated == true ? "user:" + http.User.Identity.Name
            : "ip:" + http.Connection.RemoteIpAddress;
        return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = permits,
            TokensPerPeriod = Math.Max(1, permits / 60),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    });

    public static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
        await WriteTooManyAsync(context.HttpContext, retry,
            $"This caller has used its request budget; retry in {retry} s (Retry-After). The budget is Registry:RateLimit:PermitsPerMinute.");
    }

    /// <summary>Answers 429 with <c>Retry-After</c> as problem+json.</summary>
    public static async Task WriteTooManyAsync(HttpContext http, int retrySeconds, string detail)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = retrySeconds.ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = detail,
            },
        });
    }
}
