using System.Text.Json;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Admin;

/// <summary><c>GET</c> and <c>POST /admin/circuit-breaker</c>: every worker's KMS breakers, and the operator's reset.</summary>
public static class CircuitBreakerEndpoints
{
    public sealed record ResetBody(string? Action, string? Service);

    public sealed record BreakersView(IReadOnlyList<BreakerStatus> Breakers, IReadOnlyList<CircuitBreakerStatusReported> Workers);

    public static RouteGroupBuilder MapCircuitBreakerAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/circuit-breaker", (CircuitBreakerView view) => TypedResults.Ok(Current(view)));
        admin.MapPost("/circuit-breaker", Reset);
        return admin;
    }

    public static async Task<Results<Accepted<BreakersView>, ProblemHttpResult>> Reset(
        HttpContext context, CircuitBreakerView view, IPublishEndpoint publish, TimeProvider time, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        audit.Action = "circuit_breaker.reset";
        var (body, problem) = await JsonBody.ReadAsync<ResetBody>(context.Request, 16 * 1024, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Action != "reset" || body.Service != "kms_signer")
        {
            return Problems.InvalidRequest("The body must be {\"action\":\"reset\",\"service\":\"kms_signer\"}.");
        }

        var before = Current(view);
        await publish.Publish(new ResetCircuitBreakers { EventId = NewId.NextGuid(), RequestedAt = time.GetUtcNow() }, ct);
        audit.Target = "kms_signer";
        audit.Before = JsonSerializer.Serialize(before.Breakers, FlagStore.Json);
        audit.After = "\"reset requested on every worker instance\"";
        return TypedResults.Accepted("/admin/circuit-breaker", before);
    }

    private static BreakersView Current(CircuitBreakerView view)
    {
        var workers = view.Workers();
        return new BreakersView(CircuitBreakerView.Aggregate(workers), workers);
    }
}
