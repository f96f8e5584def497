using System.Security.Claims;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.ServiceDefaults.Flags;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.SignWorker.Results;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// Fire-and-forget batches: <c>POST /v1/batches</c> validates every item, queues them on their own queue and answers
/// 202 only once the broker confirmed every one; <c>GET /v1/batches/{id}</c> and <c>/results</c> read the results the
/// workers recorded. Another tenant's batch is a 404.
/// </summary>
public static class BatchEndpoints
{
    public const int MaxItems = 10_000;

    public sealed record BatchItemBody(string? Id, string? Payload, string? Format, bool? Detached);

    public sealed record BatchBody(List<BatchItemBody>? Items);

    public sealed record Accepted(Guid BatchId, int ItemCount);

    public sealed record BatchStatus(
        Guid BatchId, string Status, int ItemCount, int Succeeded, int Failed, DateTimeOffset CreatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] DateTimeOffset? CompletedAt);

    public sealed record ResultItem(string Id, string Status, string Kid, string? SigningMode, string TbsHash, string? Signature, string? SignatureDer,
        string? Jws, string? Cose, string? ErrorType);

    public sealed record ResultPage(
        IReadOnlyList<ResultItem> Items,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Next);

    public static RouteGroupBuilder MapBatches(this RouteGroupBuilder v1)
    {
        var batches = v1.MapGroup("/batches").RequireAuthorization(IngressPolicies.Tenant);
        batches.MapPost("/", Submit).AddEndpointFilter<RouteGuard>().AddEndpointFilter<RateLimitFilter>();
        batches.MapGet("/{batchId}", Status);
        batches.MapGet("/{batchId}/results", Results);
        return v1;
    }

    public static async Task<Results<Accepted<Accepted>, ProblemHttpResult>> Submit(
        HttpRequest request, ClaimsPrincipal user, SignerDbContext signer, SignResultStore results, PublishedKeys keys, FlagsState flags,
        ISendEndpointProvider sendEndpoints, IBusControl bus, IOptions<SignApiOptions> api, TimeProvider time, ILogger<BatchBody> logger, CancellationToken ct)
    {
        var tenantId = user.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim)!;
        var maxPayload = flags.Current.EffectiveFor(tenantId).MaxPayloadSize;
        var (body, problem) = await JsonBody.ReadAsync<BatchBody>(request, api.Value.MaxBatchBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }

        // Validate the whole batch before anything is queued: one bad item, and nothing is.
        var items = body!.Items;
        if (items is null || items.Count is 0 or > MaxItems)
        {
            return Problems.InvalidRequest($"items must hold 1 to {MaxItems} items.");
        }

        if (await keys.ActiveKidAsync(PublishedKeys.FirstAnnouncementWait, ct) is not { } kid)
        {
            return PublishedKeys.NoKeys();
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var tbs = new ToBeSigned[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!SignInput.IsVisibleAscii(item?.Id, 255))
            {
                return Problems.InvalidRequest($"items[{i}]: id must be 1 to 255 visible ASCII characters.");
            }

            if (!ids.Add(item!.Id!))
            {
                return Problems.InvalidRequest($"items[{i}] (id \"{item.Id}\"): the id is used twice in this batch.");
            }

            var (payload, format, error, tooLarge) = SignInput.CheckPayload(item.Payload, item.Format, maxPayload);
            if (error is not null)
            {
                return Problems.Create(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                    tooLarge ? ErrorTypes.PayloadTooLarge : ErrorTypes.InvalidRequest, $"items[{i}] (id \"{item.Id}\"): {error}");
            }

            tbs[i] = ToBeSigned.Build(format, kid, payload!, item.Detached ?? false);
        }

        var now = time.GetUtcNow();
        if (BrokerCheck.Unavailable(bus) is { } brokerDown)
        {
            return brokerDown; // refused whole, before anything of it is recorded
        }

        await results.EnsurePartitionsAsync(now, ct);
        var batch = new BatchRecord { BatchId = Guid.CreateVersion7(now), TenantId = tenantId, ItemCount = items.Count, CreatedAt = now };
        signer.Batches.Add(batch);
        await signer.SaveChangesAsync(ct);

        try
        {
            // Every send waits for the broker's confirm: the 202 means every item is in the durable queue.
            var endpoint = await sendEndpoints.GetSendEndpoint(SignQueues.BatchItemsAddress);
            var deadline = now.AddHours(api.Value.BatchItemDeadlineHours);
            for (var start = 0; start < items.Count; start += 500)
            {
                await endpoint.SendBatch(Enumerable.Range(start, Math.Min(500, items.Count - start)).Select(i => new SignRequested
                {
                    RequestId = Guid.CreateVersion7(now),
                    TenantId = tenantId,
                    Kid = tbs[i].Kid,
                    Format = tbs[i].Format,
                    TbsDigest = tbs[i].Digest,
                    PayloadSize = items[i].Payload!.Length / 4 * 3,
                    Deadline = deadline,
                    ReceivedAt = now,
                    BatchId = batch.BatchId,
                    ItemId = items[i].Id,
                    ItemIndex = i,
                }), ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Never half-accepted: the workers drop the items of an abandoned submission.
            await signer.Batches.Where(b => b.BatchId == batch.BatchId).ExecuteUpdateAsync(s => s.SetProperty(b => b.State, BatchStates.Abandoned), CancellationToken.None);
            logger.LogError("Batch {BatchId} of {TenantId} not accepted: the broker did not confirm every item ({Reason})", batch.BatchId, tenantId, ex.GetType().Name);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
                "The batch could not be queued; nothing of it will be signed. Try again.");
        }

        await signer.Batches.Where(b => b.BatchId == batch.BatchId).ExecuteUpdateAsync(s => s.SetProperty(b => b.State, BatchStates.Accepted), ct);
        return TypedResults.Accepted($"/v1/batches/{batch.BatchId}", new Accepted(batch.BatchId, items.Count));
    }

    public static async Task<Results<Ok<BatchStatus>, ProblemHttpResult>> Status(
        string batchId, ClaimsPrincipal user, SignerDbContext signer, TimeProvider time, CancellationToken ct)
    {
        var batch = await FindAsync(batchId, user, signer, ct);
        if (batch is null)
        {
            return Problems.NotFound("No such batch.");
        }

        // Counted from the recorded results (one per item, whatever the redeliveries), so the figures are exact.
        var counts = await signer.Results.Where(r => r.BatchId == batch.BatchId && r.CompletedAt != null)
            .GroupBy(r => r.Signature != null).Select(g => new { Signed = g.Key, Count = g.Count() }).ToListAsync(ct);
        var succeeded = counts.Where(c => c.Signed).Sum(c => c.Count);
        var failed = counts.Where(c => !c.Signed).Sum(c => c.Count);
        var done = succeeded + failed >= batch.ItemCount;
        var status = done ? "completed" : succeeded + failed > 0 ? "running" : "pending";
        // The last item's worker marks the batch completed right after it recorded the result: in that instant (or
        // until a redelivery finishes the job of a worker that died there) the time of this answer stands in.
        var completedAt = done ? batch.CompletedAt ?? time.GetUtcNow() : (DateTimeOffset?)null;
        return TypedResults.Ok(new BatchStatus(batch.BatchId, status, batch.ItemCount, succeeded, failed, batch.CreatedAt, completedAt));
    }

    public static async Task<Results<Ok<ResultPage>, ProblemHttpResult>> Results(
        string batchId, string? after, int? limit, ClaimsPrincipal user, SignerDbContext signer, CancellationToken ct)
    {
        var batch = await FindAsync(batchId, user, signer, ct);
        if (batch is null)
        {
            return Problems.NotFound("No such batch.");
        }

        var take = limit ?? 100;
        if (take is < 1 or > 1000 || (after is not null && !int.TryParse(after, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
        {
            return Problems.InvalidRequest("limit must be 1 to 1000, and after a cursor from a previous page.");
        }

        var from = after is null ? -1 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture);
        var rows = await signer.Results.AsNoTracking()
            .Where(r => r.BatchId == batch.BatchId && r.CompletedAt != null && r.ItemIndex > from)
            .OrderBy(r => r.ItemIndex).Take(take + 1).ToListAsync(ct);
        var page = rows.Take(take).Select(ToItem).ToList();
        var next = rows.Count > take ? rows[take - 1].ItemIndex!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new ResultPage(page, next));
    }

    /// <summary>Results carry detached JWS and COSE: the client holds the payload.</summary>
    private static ResultItem ToItem(SignResultRecord r)
    {
        if (r.Signature is not { } signature)
        {
            return new ResultItem(r.ItemId!, "failed", r.Kid, r.SigningMode, r.TbsHash, null, null, null, null, r.ErrorType);
        }

        var jws = r.Format == SignatureFormats.Jws ? JwsTbs.Create(r.Kid, []).Compact(signature, detached: true) : null;
        var cose = r.Format == SignatureFormats.Cose ? Convert.ToBase64String(CoseTbs.Sign1(CoseTbs.ProtectedHeader(r.Kid), null, signature)) : null;
        return new ResultItem(r.ItemId!, "succeeded", r.Kid, r.SigningMode, r.TbsHash, System.Buffers.Text.Base64Url.EncodeToString(signature),
            Convert.ToBase64String(EcdsaSignature.RsToDer(signature)), jws, cose, null);
    }

    private static async Task<BatchRecord?> FindAsync(string batchId, ClaimsPrincipal user, SignerDbContext signer, CancellationToken ct)
    {
        var tenantId = user.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim)!;
        if (!Guid.TryParse(batchId, out var id))
        {
            return null;
        }

        var batch = await signer.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == id, ct);
        return batch is not null && batch.TenantId == tenantId && batch.State == BatchStates.Accepted ? batch : null; // another tenant's: 404, not 403
    }
}
