using System.Security.Claims;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.ServiceDefaults.Observability;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Observability;

/// <summary>What the sign handler learned about a request, for <see cref="SignLogFilter"/>'s one log line.</summary>
public sealed class SignLogFeature
{
    public Guid RequestId { get; } = Guid.CreateVersion7();

    /// <summary>The request's fields as far as the handler got (format, kid, TBS hash, build time).</summary>
    public EdgeSignerLog? Partial { get; set; }

    /// <summary>The worker's own log of the request, when a worker answered.</summary>
    public EdgeSignerLog? FromWorker { get; set; }
}

/// <summary>
/// The outermost filter of <c>/v1/sign</c>: every request, accepted or refused by any guardrail, ends in exactly
/// one structured log event with the seed's <c>EdgeSignerLog</c> fields (the worker's own figures when it answered)
/// and in the ingress's metrics.
/// </summary>
public sealed class SignLogFilter(IngressMetrics metrics, TimeProvider time, ILogger<SignLogFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var started = time.GetTimestamp();
        var receivedAt = time.GetUtcNow();
        var feature = new SignLogFeature();
        context.HttpContext.Features.Set(feature);
        object? result = null;
        try
        {
            result = await next(context);
            return result;
        }
        finally
        {
            var (success, errorType, message) = Outcome(result, context.HttpContext);
            var tenant = context.HttpContext.User.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim) ?? string.Empty;
            var log = (feature.FromWorker ?? feature.Partial ?? EdgeSignerLog.Begin(feature.RequestId, tenant, receivedAt)) with
            {
                Timestamp = time.GetUtcNow(),
                TTotalMs = time.GetElapsedTime(started).TotalMilliseconds,
                Success = success,
                ErrorType = success ? null : errorType,
                ErrorMessage = success ? null : message,
            };
            metrics.Record(log, fromWorker: feature.FromWorker is not null);
            SignLog.Write(logger, "ingress", log);
        }
    }

    private static (bool Success, string? ErrorType, string? Message) Outcome(object? result, HttpContext http)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }

        return result switch
        {
            null => (false, ErrorTypes.InternalError, "The request ended with an error."),
            ProblemHttpResult problem => (false, problem.ProblemDetails.Extensions.TryGetValue("error_type", out var type) ? type as string : null,
                problem.ProblemDetails.Detail),
            IStatusCodeHttpResult { StatusCode: >= 400 } status => (false, Hosting.Problems.ErrorTypeOf(status.StatusCode!.Value), null),
            _ => (http.Response.StatusCode < 400, null, null),
        };
    }
}
