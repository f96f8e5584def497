using System.Diagnostics;
using System.Security.Claims;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Ingress.Observability;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.Guardrails.Flags;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Signing;

/// <summary><c>POST /v1/sign</c>: build the TBS, send its digest to a worker, answer with the signed result.</summary>
public static class SignEndpoints
{
    public static RouteGroupBuilder MapSigning(this RouteGroupBuilder v1)
    {
        v1.MapPost("/sign", Sign).RequireAuthorization(IngressPolicies.Tenant)
            .AddEndpointFilter<SignLogFilter>()
            .AddEndpointFilter<RouteGuard>()
            .AddEndpointFilter<RateLimitFilter>();
        return v1;
    }

    public sealed record SignBody(string? Payload, string? Format, bool? Detached);

    public sealed record SignResult
    {
        public required Guid RequestId { get; init; }
        public required string TenantId { get; init; }
        public required string Kid { get; init; }
        public string Alg { get; init; } = "ES256";
        public required string Format { get; init; }
        public required string SigningMode { get; init; }
        public required string Region { get; init; }
        public required string TbsHash { get; init; }
        public required string Signature { get; init; }
        public required string SignatureDer { get; init; }
        public string? Jws { get; init; }
        public string? Cose { get; init; }
    }

    /// <summary>What a sign request needs from the container, bound by ASP.NET Core as one parameter (<c>[AsParameters]</c>).</summary>
    public sealed record SignServices(
        IRequestClient<SignRequested> Signer, IBusControl Bus, PublishedKeys Keys, FlagsState Flags, IOptions<SignApiOptions> Api,
        IdempotencyKeys Idempotency, TimeProvider Time, ILogger<SignRequested> Logger);

    public static async Task<Results<Ok<SignResult>, ProblemHttpResult>> Sign(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] SignServices services, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        var (signer, bus, keys, flags, api, idempotency, time, logger) = services;
        var receivedAt = time.GetUtcNow();
        var logFeature = request.HttpContext.Features.Get<SignLogFeature>();
        var requestId = logFeature?.RequestId ?? Guid.CreateVersion7(receivedAt);
        var tenantId = user.FindFirstValue(TenantAuthenticationHandler.TenantIdClaim)!;
        var maxPayload = flags.Current.EffectiveFor(tenantId).MaxPayloadSize;

        var (body, problem) = await JsonBody.ReadAsync<SignBody>(request, MaxBodyBytes(maxPayload), ct);
        if (problem is not null)
        {
            return problem;
        }

        var input = SignInput.Validate(body!, request.Headers, maxPayload);
        if (input.Problem is not null)
        {
            return input.Problem;
        }

        if (input.IdempotencyKey is { } idempotencyKey)
        {
            var (id, conflict) = await idempotency.ResolveAsync(tenantId, idempotencyKey,
                IdempotencyKeys.HashOf(input.Format, input.Detached, input.Payload), requestId, ct);
            if (conflict)
            {
                return Problems.Create(StatusCodes.Status409Conflict, ErrorTypes.IdempotencyConflict,
                    "This Idempotency-Key was used within the last 24 hours for a different request.", id.ToString());
            }

            requestId = id; // a replay: the worker answers with the result recorded under this id
        }

        // No key known yet (a new deployment whose first worker is starting): the request waits for one as it would
        // wait in the queue for a worker, until its deadline.
        var deadline = receivedAt.AddMilliseconds(api.Value.SyncTimeoutMs);
        if (await keys.ActiveKidAsync(deadline - time.GetUtcNow(), ct) is not { } kid)
        {
            return Problems.Create(StatusCodes.Status504GatewayTimeout, ErrorTypes.SigningTimeout,
                "No signing worker has announced its keys before the request's deadline.", requestId.ToString());
        }

        var started = time.GetTimestamp();
        var tbs = ToBeSigned.Build(input.Format, kid, input.Payload, input.Detached);
        var tbsBuildMs = time.GetElapsedTime(started).TotalMilliseconds;

        var message = new SignRequested
        {
            RequestId = requestId,
            TenantId = tenantId,
            Kid = tbs.Kid,
            Format = tbs.Format,
            TbsDigest = tbs.Digest,
            PayloadSize = input.Payload.Length,
            Region = input.ClientRegion,
            Deadline = deadline,
            IdempotencyKey = input.IdempotencyKey,
            ReceivedAt = receivedAt,
            TbsBuildMs = tbsBuildMs,
        };

        if (logFeature is not null)
        {
            logFeature.Partial = EdgeSignerLog.Begin(requestId, tenantId, receivedAt) with
            {
                Region = input.ClientRegion ?? string.Empty,
                TWasmMs = tbsBuildMs,
                TbsHash = Convert.ToHexStringLower(tbs.Digest),
                Kid = tbs.Kid,
                Format = tbs.Format,
                PayloadSize = input.Payload.Length,
            };
        }

        if (BrokerCheck.Unavailable(bus) is { } brokerDown)
        {
            return brokerDown;
        }

        Response<SignCompleted, SignRejected> response;
        // The request timeout covers the wait for the answer; the token also bounds the send, which waits for the
        // broker while its connection is being re-established. MassTransit does not observe the token everywhere
        // while it reconnects (the fault suite saw calls held for 30 s), so the wait itself is bounded too: the
        // caller gets an answer by the deadline, whatever happens.
        var answerBy = TimeSpan.FromMilliseconds(api.Value.SyncTimeoutMs + 1000);
        using var deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadlineSource.CancelAfter(answerBy);
        var pending = signer.GetResponse<SignCompleted, SignRejected>(message, deadlineSource.Token, RequestTimeout.After(ms: api.Value.SyncTimeoutMs));
        try
        {
            response = await pending.WaitAsync(answerBy, time, ct);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            _ = pending.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
                "The message broker did not take the request in time; try again shortly.", requestId.ToString());
        }
        catch (RequestTimeoutException)
        {
            return Problems.Create(StatusCodes.Status504GatewayTimeout, ErrorTypes.SigningTimeout,
                $"No signature within {api.Value.SyncTimeoutMs} ms.", requestId.ToString());
        }
        catch (RequestFaultException ex)
        {
            logger.LogWarning("Sign {RequestId} for {TenantId} faulted: {Reason}", requestId, tenantId,
                ex.Fault?.Exceptions.FirstOrDefault()?.ExceptionType ?? "unknown");
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
                "No signing backend could sign this request.", requestId.ToString());
        }

        if (response.Is(out Response<SignRejected>? rejected))
        {
            if (logFeature is not null)
            {
                logFeature.FromWorker = rejected.Message.Log;
            }

            // Every other rejection (both backends failed, a key that cannot sign) is the service's to fix: 503,
            // with the precise error_type (signing_failed, kms_key_disabled, ...) and a detail naming the causes.
            var status = rejected.Message.ErrorType switch
            {
                ErrorTypes.SigningTimeout => StatusCodes.Status504GatewayTimeout,
                ErrorTypes.InvalidRequest => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status503ServiceUnavailable,
            };
            return Problems.Create(status, rejected.Message.ErrorType, rejected.Message.Message, requestId.ToString());
        }

        response.Is(out Response<SignCompleted>? completed);
        var result = completed!.Message;
        if (logFeature is not null)
        {
            logFeature.FromWorker = result.Log;
        }
        var encoded = SignatureEncodings.Of(tbs, result.Signature);
        return TypedResults.Ok(new SignResult
        {
            RequestId = requestId,
            TenantId = tenantId,
            Kid = result.Kid,
            Format = tbs.Format,
            SigningMode = result.SigningMode,
            Region = result.Region,
            TbsHash = result.TbsHash,
            Signature = encoded.Signature,
            SignatureDer = encoded.SignatureDer,
            Jws = encoded.Jws,
            Cose = encoded.Cose,
        });
    }

    /// <summary>The body limit that fits a payload of <paramref name="maxPayload"/> bytes in base64 plus the JSON around it.</summary>
    public static long MaxBodyBytes(int maxPayload) => ((maxPayload + 2L) / 3 * 4) + 4096;
}
