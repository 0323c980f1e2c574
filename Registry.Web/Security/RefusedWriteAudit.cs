using Microsoft.EntityFrameworkCore;
using Registry.Core.Auditing;
using Registry.Core.Persistence;

namespace Registry.Web.Security;

/// <summary>
/// Audits every state change refused to an authenticated caller: a write (not GET, HEAD or OPTIONS)
/// answered 403, whether by a policy, a service's own check or the antiforgery guard. The event is
/// <c>access.denied</c>, with the caller, its address and the method and path it tried. Failing to
/// record it is logged and never changes the answer.
/// </summary>
internal static class RefusedWriteAudit
{
    public const string Action = "access.denied";

    private const int MaxTargetLength = 300;

    public static async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        await next(http);
        if (http.Response.StatusCode != StatusCodes.Status403Forbidden || http.User.Identity?.IsAuthenticated != true) return;
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return;

        var target = $"{method} {http.Request.Path}";
        if (target.Length > MaxTargetLength) target = target[..(char.IsHighSurrogate(target[MaxTargetLength - 1]) ? MaxTargetLength - 1 : MaxTargetLength)];
        try
        {
            var services = http.RequestServices;
            await using var db = await services.GetRequiredService<IDbContextFactory<RegistryDbContext>>().CreateDbContextAsync(CancellationToken.None);
            db.Record(services.GetRequiredService<TimeProvider>().GetUtcNow(), http.ActorOf(), Action, target, after: new { status = StatusCodes.Status403Forbidden });
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException) // the answer is already written: never break it
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RefusedWriteAudit))
                .LogWarning(ex, "Could not audit the refused {Target}", target);
        }
    }
}
