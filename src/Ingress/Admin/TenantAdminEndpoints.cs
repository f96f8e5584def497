using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Admin;

/// <summary>Tenants, their API keys and their broker users (docs/bus-clients.md), behind the admin token.</summary>
public static class TenantAdminEndpoints
{
    public static RouteGroupBuilder MapTenantAdmin(this RouteGroupBuilder admin)
    {
        var tenants = admin.MapGroup("/tenants");
        tenants.MapPost("/", CreateTenant);
        tenants.MapPost("/{tenantId}/keys", IssueKey);
        tenants.MapDelete("/{tenantId}/keys/{keyId}", RevokeKey);
        tenants.MapGet("/{tenantId}/broker-users", ListBrokerUsers);
        tenants.MapPut("/{tenantId}/broker-users/{brokerUser}", MapBrokerUser);
        tenants.MapDelete("/{tenantId}/broker-users/{brokerUser}", UnmapBrokerUser);
        tenants.MapPost("/{tenantId}/disable", (string tenantId, HttpContext context, IngressDbContext db, AccessChanges changes, CancellationToken ct) =>
            SetDisabled(tenantId, true, context, db, changes, ct));
        tenants.MapPost("/{tenantId}/enable", (string tenantId, HttpContext context, IngressDbContext db, AccessChanges changes, CancellationToken ct) =>
            SetDisabled(tenantId, false, context, db, changes, ct));
        return admin;
    }

    public sealed record CreateTenantBody(string? TenantId, int? RatePerSecond, int? Burst);

    public sealed record TenantView(string TenantId, bool Disabled, int? RatePerSecond, int? Burst, DateTimeOffset CreatedAt);

    public sealed record IssuedKey(string KeyId, string ApiKey);

    public static async Task<Results<Created<TenantView>, ProblemHttpResult>> CreateTenant(
        HttpRequest request, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(request.HttpContext);
        audit.Action = "tenants.create";
        var (body, problem) = await JsonBody.ReadAsync<CreateTenantBody>(request, 16 * 1024, ct);
        if (problem is not null)
        {
            return problem;
        }

        audit.Target = TenantIds.IsValid(body!.TenantId) ? body.TenantId : null;
        if (!TenantIds.IsValid(body.TenantId))
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
        audit.After = Json(View(tenant));
        return TypedResults.Created($"/admin/tenants/{tenant.TenantId}", View(tenant));
    }

    public static async Task<Results<Created<IssuedKey>, ProblemHttpResult>> IssueKey(
        string tenantId, HttpContext context, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        (audit.Action, audit.Target) = ("tenants.keys.issue", tenantId);
        if (!await db.Tenants.AnyAsync(t => t.TenantId == tenantId, ct))
        {
            return Problems.NotFound("No such tenant.");
        }

        var apiKey = ApiKeys.Generate();
        var key = new TenantApiKey { KeyId = ApiKeys.NewKeyId(), TenantId = tenantId, KeyHash = ApiKeys.Hash(apiKey), CreatedAt = time.GetUtcNow() };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        audit.After = Json(new { key.KeyId, key.CreatedAt }); // never the key itself
        return TypedResults.Created($"/admin/tenants/{tenantId}/keys/{key.KeyId}", new IssuedKey(key.KeyId, apiKey));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string tenantId, string keyId, HttpContext context, IngressDbContext db, AccessChanges changes, TimeProvider time, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        (audit.Action, audit.Target) = ("tenants.keys.revoke", $"{tenantId}/{keyId}");
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.KeyId == keyId && k.TenantId == tenantId, ct);
        if (key is null)
        {
            return Problems.NotFound("No such key for this tenant.");
        }

        audit.Before = Json(new { key.KeyId, key.RevokedAt });
        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await changes.ChangedAsync(tenantId, ct);
        audit.After = Json(new { key.KeyId, key.RevokedAt });
        return TypedResults.NoContent();
    }

    public sealed record BrokerUserView(string BrokerUser, string TenantId, DateTimeOffset CreatedAt);

    public static async Task<Results<Ok<List<BrokerUserView>>, ProblemHttpResult>> ListBrokerUsers(string tenantId, IngressDbContext db, CancellationToken ct)
    {
        if (!await db.Tenants.AnyAsync(t => t.TenantId == tenantId, ct))
        {
            return Problems.NotFound("No such tenant.");
        }

        var users = await db.BrokerUsers.AsNoTracking().Where(u => u.TenantId == tenantId).OrderBy(u => u.BrokerUser).ToListAsync(ct);
        return TypedResults.Ok(users.Select(View).ToList());
    }

    /// <summary>
    /// Lets a RabbitMQ user sign as the tenant on the bus. A user serves one tenant: mapping it to a second one is a
    /// 409 until it is unmapped from the first. Mapping it again to the same tenant changes nothing.
    /// </summary>
    public static async Task<Results<Ok<BrokerUserView>, Created<BrokerUserView>, ProblemHttpResult>> MapBrokerUser(
        string tenantId, string brokerUser, HttpContext context, IngressDbContext db, TimeProvider time, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        (audit.Action, audit.Target) = ("tenants.broker_users.map", $"{tenantId}/{TextLimits.Truncate(brokerUser, 100)}");
        if (!IsBrokerUserName(brokerUser))
        {
            return Problems.InvalidRequest("A broker user name is 1 to 255 printable characters.");
        }

        if (!await db.Tenants.AnyAsync(t => t.TenantId == tenantId, ct))
        {
            return Problems.NotFound("No such tenant.");
        }

        var existing = await db.BrokerUsers.FirstOrDefaultAsync(u => u.BrokerUser == brokerUser, ct);
        if (existing is not null)
        {
            return existing.TenantId == tenantId
                ? TypedResults.Ok(View(existing))
                : Problems.Create(StatusCodes.Status409Conflict, "broker_user_taken", $"Broker user '{brokerUser}' is mapped to another tenant.");
        }

        var mapped = new TenantBrokerUser { BrokerUser = brokerUser, TenantId = tenantId, CreatedAt = time.GetUtcNow() };
        db.BrokerUsers.Add(mapped);
        await db.SaveChangesAsync(ct);
        audit.After = Json(View(mapped));
        return TypedResults.Created($"/admin/tenants/{tenantId}/broker-users/{Uri.EscapeDataString(brokerUser)}", View(mapped));
    }

    /// <summary>From now on the user's bus requests for the tenant are refused (<c>sender_not_allowed</c>).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> UnmapBrokerUser(
        string tenantId, string brokerUser, HttpContext context, IngressDbContext db, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        (audit.Action, audit.Target) = ("tenants.broker_users.unmap", $"{tenantId}/{TextLimits.Truncate(brokerUser, 100)}");
        var mapped = await db.BrokerUsers.FirstOrDefaultAsync(u => u.BrokerUser == brokerUser && u.TenantId == tenantId, ct);
        if (mapped is null)
        {
            return Problems.NotFound("No such broker user for this tenant.");
        }

        audit.Before = Json(View(mapped));
        db.BrokerUsers.Remove(mapped);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static bool IsBrokerUserName(string name) => name.Length is > 0 and <= 255 && !name.Any(char.IsControl);

    private static BrokerUserView View(TenantBrokerUser u) => new(u.BrokerUser, u.TenantId, u.CreatedAt);

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> SetDisabled(
        string tenantId, bool disabled, HttpContext context, IngressDbContext db, AccessChanges changes, CancellationToken ct)
    {
        var audit = AdminAuditFeature.For(context);
        (audit.Action, audit.Target) = (disabled ? "tenants.disable" : "tenants.enable", tenantId);
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.TenantId == tenantId, ct);
        if (tenant is null)
        {
            return Problems.NotFound("No such tenant.");
        }

        audit.Before = Json(View(tenant));
        tenant.Disabled = disabled;
        await db.SaveChangesAsync(ct);
        await changes.ChangedAsync(tenantId, ct);
        audit.After = Json(View(tenant));
        return TypedResults.Ok(View(tenant));
    }

    /// <summary>After a committed change of a tenant's access: forgotten here at once, and on every other instance by the bus.</summary>
    public sealed class AccessChanges(ApiKeyCache credentials, IPublishEndpoint publish, TimeProvider time)
    {
        public async Task ChangedAsync(string tenantId, CancellationToken cancellationToken)
        {
            credentials.Evict(tenantId);
            await publish.Publish(new TenantAccessChanged { TenantId = tenantId, ChangedAt = time.GetUtcNow() }, cancellationToken);
        }
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, Flags.FlagStore.Json);

    private static TenantView View(Tenant t) => new(t.TenantId, t.Disabled, t.RatePerSecond, t.Burst, t.CreatedAt);
}
