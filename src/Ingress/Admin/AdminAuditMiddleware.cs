using EdgeSigner.Contracts.Admin;
using EdgeSigner.ServiceDefaults;
using MassTransit;

namespace EdgeSigner.Ingress.Admin;

/// <summary>
/// Records every call under <c>/admin</c>, allowed or denied, as an <see cref="AdminActionRecorded"/>: who (the
/// admin token's holder or anonymous), when, from which address, the action, and the value before and after.
/// </summary>
public sealed class AdminAuditMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, IPublishEndpoint publish, TimeProvider time, ILogger<AdminAuditMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        var audit = AdminAuditFeature.For(context);
        await next(context);

        var status = context.Response.StatusCode;
        var admin = context.User.Identity is { IsAuthenticated: true, AuthenticationType: AdminAuthenticationHandler.SchemeName };
        var record = new AdminActionRecorded
        {
            EventId = NewId.NextGuid(),
            OccurredAt = time.GetUtcNow(),
            Actor = admin ? "admin" : "anonymous",
            SourceAddress = context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            Action = audit.Action ?? $"{context.Request.Method} {TextLimits.Truncate(context.Request.Path.Value ?? string.Empty, 200)}",
            Target = audit.Target,
            Outcome = status is 401 or 403 ? "denied" : status >= 400 ? "rejected" : "allowed",
            StatusCode = status,
            Before = audit.Before,
            After = audit.After,
        };
        try
        {
            await publish.Publish(record, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError("Could not record admin action {Action} ({Outcome}) in the audit trail: {Reason}", record.Action, record.Outcome, ex.GetType().Name);
        }

        if (record.Outcome == "denied")
        {
            logger.LogWarning("Denied admin call {Action} from {SourceAddress}", record.Action, record.SourceAddress);
        }
    }
}
