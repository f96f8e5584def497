using System.Security.Claims;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.Guardrails.Flags;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// Fire-and-forget batches: <c>POST /v1/batches</c> validates every item, records the batch and sends it whole to
/// the workers, answering 202 only once the broker confirmed it; <c>GET /v1/batches/{id}</c> and <c>/results</c> read
/// the results the workers reported (<see cref="BatchItemEndedConsumer"/>). Another tenant's batch is a 404.
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

    /// <summary>What a batch submission needs from the container, bound by ASP.NET Core as one parameter (<c>[AsParameters]</c>).</summary>
    public sealed record SubmitServices(
        BatchStore Batches, PublishedKeys Keys, FlagsState Flags, ISendEndpointProvider SendEndpoints, IBusControl Bus, IOptions<SignApiOptions> Api,
        TimeProvider Time, ILogger<BatchBody> Logger);

    public static async Task<Results<Accepted<Accepted>, ProblemHttpResult>> Submit(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] SubmitServices services, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        var (batches, keys, flags, sendEndpoints, bus, api, time, logger) = services;
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

        var batch = new BatchRow { BatchId = Guid.CreateVersion7(now), TenantId = tenantId, ItemCount = items.Count, CreatedAt = now };
        await batches.CreateAsync(batch, ct);
        var deadline = now.AddHours(api.Value.BatchItemDeadlineHours);
        var submit = new SubmitBatch
        {
            BatchId = batch.BatchId,
            TenantId = tenantId,
            CreatedAt = now,
            Items = items.Select((item, i) => new SignRequested
            {
                RequestId = Guid.CreateVersion7(now),
                TenantId = tenantId,
                Kid = tbs[i].Kid,
                Format = tbs[i].Format,
                TbsDigest = tbs[i].Digest,
                PayloadSize = item.Payload!.Length / 4 * 3,
                Deadline = deadline,
                ReceivedAt = now,
                BatchId = batch.BatchId,
                ItemId = item.Id,
                ItemIndex = i,
            }).ToList(),
        };

        try
        {
            // One message for the whole batch, confirmed by the broker: the 202 means every item is in the durable queue.
            var endpoint = await sendEndpoints.GetSendEndpoint(SignQueues.SubmittedBatchesAddress);
            await endpoint.Send(submit, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await batches.CloseAsync(batch.BatchId, BatchStates.Abandoned, CancellationToken.None);
            logger.LogError("Batch {BatchId} of {TenantId} not accepted: the broker did not confirm it ({Reason})", batch.BatchId, tenantId, ex.GetType().Name);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
                "The batch could not be queued; nothing of it will be signed. Try again.");
        }

        await batches.CloseAsync(batch.BatchId, BatchStates.Accepted, ct);
        return TypedResults.Accepted($"/v1/batches/{batch.BatchId}", new Accepted(batch.BatchId, items.Count));
    }

    public static async Task<Results<Ok<BatchStatus>, ProblemHttpResult>> Status(
        string batchId, ClaimsPrincipal user, BatchStore batches, TimeProvider time, CancellationToken ct)
    {
        if (await FindAsync(batchId, user, batches, ct) is not { } batch)
        {
            return Problems.NotFound("No such batch.");
        }

        // Counted from the kept results (one per item, whatever the redeliveries), so the figures are exact.
        var (succeeded, failed) = await batches.CountAsync(batch.BatchId, ct);
        var done = succeeded + failed >= batch.ItemCount;
        var status = done ? "completed" : succeeded + failed > 0 ? "running" : "pending";
        // The batch is marked completed right after its last result is kept: in that instant (or until a redelivery
        // finishes the job of an instance that died there) the time of this answer stands in.
        var completedAt = done ? batch.CompletedAt ?? time.GetUtcNow() : (DateTimeOffset?)null;
        return TypedResults.Ok(new BatchStatus(batch.BatchId, status, batch.ItemCount, succeeded, failed, batch.CreatedAt, completedAt));
    }

    public static async Task<Results<Ok<ResultPage>, ProblemHttpResult>> Results(
        string batchId, string? after, int? limit, ClaimsPrincipal user, BatchStore batches, CancellationToken ct)
    {
        if (await FindAsync(batchId, user, batches, ct) is not { } batch)
        {
            return Problems.NotFound("No such batch.");
        }

        var take = limit ?? 100;
        if (take is < 1 or > 1000 || (after is not null && !int.TryParse(after, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
        {
            return Problems.InvalidRequest("limit must be 1 to 1000, and after a cursor from a previous page.");
        }

        var from = after is null ? -1 : int.Parse(after, System.Globalization.CultureInfo.InvariantCulture);
        var rows = await batches.PageAsync(batch.BatchId, from, take, ct);
        var page = rows.Take(take).Select(ToItem).ToList();
        var next = rows.Count > take ? rows[take - 1].ItemIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new ResultPage(page, next));
    }

    /// <summary>Results carry detached JWS and COSE: the client holds the payload.</summary>
    private static ResultItem ToItem(BatchItemRow r)
    {
        if (r.Signature is not { } signature)
        {
            return new ResultItem(r.ItemId, "failed", r.Kid, r.SigningMode, r.TbsHash, null, null, null, null, r.ErrorType);
        }

        var encoded = SignatureEncodings.Of(ToBeSigned.Build(r.Format, r.Kid, [], detached: true), signature);
        return new ResultItem(r.ItemId, "succeeded", r.Kid, r.SigningMode, r.TbsHash, encoded.Signature, encoded.SignatureDer, encoded.Jws, encoded.Cose, null);
    }

    private static Task<BatchRow?> FindAsync(string batchId, ClaimsPrincipal user, BatchStore batches, CancellationToken ct) =>
        Guid.TryParse(batchId, out var id)
            ? batches.FindAsync(id, user.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim)!, ct) // another tenant's: 404, not 403
            : Task.FromResult<BatchRow?>(null);
}
