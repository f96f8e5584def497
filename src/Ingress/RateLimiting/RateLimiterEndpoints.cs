using EdgeSigner.Ingress.Admin;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary><c>POST /admin/rate-limiter</c> <c>{"action":"clear","tenant_id":"acme"}</c>: refills a tenant's bucket everywhere.</summary>
public static class RateLimiterEndpoints
{
    public sealed record ClearBody(string? Action, string? TenantId);

    public sealed record Cleared(string TenantId, string Action);

    public static RouteGroupBuilder MapRateLimiterAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/rate-limiter", Clear);
        return admin;
    }

    public static async Task<Results<Ok<Cleared>, ProblemHttpResult>> Clear(HttpContext context, TenantRateLimiter limiter, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        audit.Action = "rate_limiter.clear";
        var (body, problem) = await JsonBody.ReadAsync<ClearBody>(context.Request, 16 * 1024, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Action != "clear" || !TenantIds.IsValid(body.TenantId))
        {
            return Problems.InvalidRequest("The body must be {\"action\":\"clear\",\"tenant_id\":\"<tenant>\"}.");
        }

        await limiter.ClearAsync(body.TenantId!, ct);
        audit.Target = body.TenantId;
        audit.After = "\"bucket refilled\"";
        return TypedResults.Ok(new Cleared(body.TenantId!, "cleared"));
    }
}
