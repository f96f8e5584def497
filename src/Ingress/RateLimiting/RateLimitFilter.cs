using System.Globalization;
using System.Security.Claims;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Tenants;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>
/// Takes a token from the tenant's bucket before anything else is done for the request; an empty bucket answers 429
/// <c>rate_limited</c> with <c>Retry-After</c>. Every answer carries <c>X-RateLimit-Limit</c> (the burst),
/// <c>-Remaining</c> and <c>-Reset</c> (seconds until the bucket is full).
/// </summary>
public sealed class RateLimitFilter(TenantRateLimiter limiter, IOptions<RateLimitOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var tenantId = http.User.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim)!;
        var rate = double.TryParse(http.User.FindFirstValue(TenantAuthenticationHandler.RateClaim), CultureInfo.InvariantCulture, out var r) ? r : options.Value.DefaultRatePerSecond;
        var burst = int.TryParse(http.User.FindFirstValue(TenantAuthenticationHandler.BurstClaim), CultureInfo.InvariantCulture, out var b) ? b : options.Value.DefaultBurst;

        var decision = await limiter.TakeAsync(tenantId, rate, burst, http.RequestAborted);
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = burst.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = Math.Max(0, Math.Floor(decision.Remaining)).ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = Math.Ceiling(decision.ResetAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        if (!decision.Allowed)
        {
            headers.RetryAfter = Math.Max(1, Math.Ceiling(decision.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status429TooManyRequests, ErrorTypes.RateLimited, OverLimitMessage(tenantId, rate, burst));
        }

        return await next(context);
    }

    /// <summary>What a tenant over its limit is told, over HTTP and on the bus.</summary>
    public static string OverLimitMessage(string tenantId, double rate, int burst) =>
        $"Tenant {tenantId} is over its limit of {rate.ToString(CultureInfo.InvariantCulture)} requests per second (burst {burst}).";
}
