using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Admin;

/// <summary>Tenants and their API keys, behind the admin token.</summary>
public static class TenantAdminEndpoints
{
    public static RouteGroupBuilder MapTenantAdmin(this RouteGroupBuilder admin)
    {
        var tenants = admin.MapGroup("/tenants");
        tenants.MapPost("/", CreateTenant);
        tenants.MapPost("/{tenantId}/keys", IssueKey);
        tenants.MapDelete("/{tenantId}/keys/{keyId}", RevokeKey);
        tenants.MapPost("/{tenantId}/disable", (string tenantId, IngressDbContext db, CancellationToken ct) => SetDisabled(tenantId, true, db, ct));
        tenants.MapPost("/{tenantId}/enable", (string tenantId, IngressDbContext db, CancellationToken ct) => SetDisabled(tenantId, false, db, ct));
        return admin;
    }

    public sealed record CreateTenantBody(string? TenantId, int? RatePerSecond, int? Burst);

    public sealed record TenantView(string TenantId, bool Disabled, int? RatePerSecond, int? Burst, DateTimeOffset CreatedAt);

    public sealed record IssuedKey(string KeyId, string ApiKey);

    public static async Task<Results<Created<TenantView>, ProblemHttpResult>> CreateTenant(
        HttpRequest request, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateTenantBody>(request, 16 * 1024, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (!TenantIds.IsValid(body!.TenantId))
        {
            return Problems.InvalidRequest("tenant_id must match ^[a-z0-9][a-z0-9-]{0,62}$.");
        }

        if (body.RatePerSecond is <= 0 or > 100_000 || body.Burst is <= 0 or > 1_000_000)
        {
            return Problems.InvalidRequest("rate_per_second must be 1 to 100000 and burst 1 to 1000000.");
        }

        if (await db.Tenants.AnyAsync(t => t.TenantId == body.TenantId, ct))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "tenant_exists", $"Tenant '{body.TenantId}' already exists.");
        }

        var tenant = new Tenant { TenantId = body.TenantId!, RatePerSecond = body.RatePerSecond, Burst = body.Burst, CreatedAt = time.GetUtcNow() };
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/admin/tenants/{tenant.TenantId}", View(tenant));
    }

    public static async Task<Results<Created<IssuedKey>, ProblemHttpResult>> IssueKey(
        string tenantId, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!await db.Tenants.AnyAsync(t => t.TenantId == tenantId, ct))
        {
            return Problems.NotFound("No such tenant.");
        }

        var apiKey = ApiKeys.Generate();
        var key = new TenantApiKey { KeyId = ApiKeys.NewKeyId(), TenantId = tenantId, KeyHash = ApiKeys.Hash(apiKey), CreatedAt = time.GetUtcNow() };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/admin/tenants/{tenantId}/keys/{key.KeyId}", new IssuedKey(key.KeyId, apiKey));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string tenantId, string keyId, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.KeyId == keyId && k.TenantId == tenantId, ct);
        if (key is null)
        {
            return Problems.NotFound("No such key for this tenant.");
        }

        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> SetDisabled(
        string tenantId, bool disabled, IngressDbContext db, CancellationToken ct)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.TenantId == tenantId, ct);
        if (tenant is null)
        {
            return Problems.NotFound("No such tenant.");
        }

        tenant.Disabled = disabled;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(tenant));
    }

    private static TenantView View(Tenant t) => new(t.TenantId, t.Disabled, t.RatePerSecond, t.Burst, t.CreatedAt);
}
