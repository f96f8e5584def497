using System.Collections.Concurrent;
using System.Net;
using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.Guardrails.RateLimiting;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Security;

/// <summary>
/// Failed authentications per client address (this ingress instance's view), as token buckets. Pure bookkeeping;
/// <see cref="AuthFailureGuard"/> applies it.
/// </summary>
public sealed class AuthFailureLimiter(IOptions<AuthFailureOptions> options, TimeProvider time)
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<IPAddress, TokenBucket> _buckets = new();
    private double Rate => options.Value.PerMinute / 60.0;
    private double Burst => options.Value.Burst;

    /// <summary>How long <paramref name="address"/> must wait before it may try again; zero when it may now.</summary>
    public TimeSpan Blocked(IPAddress address)
    {
        if (!_buckets.TryGetValue(address, out var bucket))
        {
            return TimeSpan.Zero;
        }

        var now = time.GetUtcNow();
        var refilled = bucket.Refill(now, Rate, Burst);
        return refilled.Tokens >= 1 ? TimeSpan.Zero : refilled.TimeUntilToken(Rate);
    }

    /// <summary>Counts a failure; true when it spent the address's last token (it is throttled from now on).</summary>
    public bool RecordFailure(IPAddress address)
    {
        var now = time.GetUtcNow();
        if (_buckets.Count > PruneAbove)
        {
            foreach (var (key, value) in _buckets)
            {
                if (value.Refill(now, Rate, Burst).Tokens >= Burst)
                {
                    _buckets.TryRemove(key, out _);
                }
            }
        }

        double before = Burst, after = 0;
        _buckets.AddOrUpdate(address,
            _ =>
            {
                before = Burst;
                var next = TokenBucket.Full(Burst, now).Take(now, Rate, Burst).Next;
                after = next.Tokens;
                return next;
            },
            (_, bucket) =>
            {
                before = bucket.Refill(now, Rate, Burst).Tokens;
                var next = bucket.Take(now, Rate, Burst).Next;
                after = next.Tokens;
                return next;
            });
        return before >= 1 && after < 1;
    }
}

/// <summary>
/// Runs before authentication: an address over its failure budget gets 429 <c>authentication_throttled</c> without
/// its credentials being looked at; every failed tenant authentication (401) is recorded as a security event in the
/// audit trail (<c>security.authentication_failed</c>, admin calls are recorded by the admin audit already), and the
/// moment an address becomes throttled as <c>security.authentication_throttled</c>. Throttled calls are not each
/// recorded, so a flood cannot flood the audit trail.
/// </summary>
public sealed class AuthFailureGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, AuthFailureLimiter limiter, IPublishEndpoint publish, TimeProvider time,
        ILogger<AuthFailureGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        var wait = limiter.Blocked(address);
        if (wait > TimeSpan.Zero)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Problems.Create(StatusCodes.Status429TooManyRequests, ErrorTypes.AuthenticationThrottled,
                "Too many failed authentications from this address; try again later.").ExecuteAsync(context);
            return;
        }

        await next(context);
        if (context.Response.StatusCode != StatusCodes.Status401Unauthorized)
        {
            return;
        }

        var throttled = limiter.RecordFailure(address);
        var admin = context.Request.Path.StartsWithSegments("/admin");
        if (!admin)
        {
            await RecordAsync(publish, time, logger, address, "security.authentication_failed", context.Request.Path.Value, 401);
        }

        if (throttled)
        {
            logger.LogWarning("Throttled {SourceAddress}: too many failed authentications", address);
            await RecordAsync(publish, time, logger, address, "security.authentication_throttled", context.Request.Path.Value, 429);
        }
    }

    private static async Task RecordAsync(IPublishEndpoint publish, TimeProvider time, ILogger logger, IPAddress address, string action, string? path, int status)
    {
        try
        {
            await publish.Publish(new AdminActionRecorded
            {
                EventId = NewId.NextGuid(),
                OccurredAt = time.GetUtcNow(),
                Actor = "anonymous",
                SourceAddress = address.ToString(),
                Action = action,
                Target = TextLimits.Truncate(path ?? string.Empty, 200),
                Outcome = "denied",
                StatusCode = status,
            }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError("Could not record {Action} from {SourceAddress} in the audit trail: {Reason}", action, address, ex.GetType().Name);
        }
    }
}
