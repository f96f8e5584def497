using EdgeSigner.Contracts.Flags;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.RateLimiting;
using EdgeSigner.SignWorker.Routing;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// What to sign: a SHA-256 digest with a key, before a deadline; low priority (batch items) takes the KMS budget
/// only above the reserve kept for synchronous requests.
/// </summary>
public sealed record SignJob(SigningKey Key, byte[] Digest, DateTimeOffset Deadline, bool LowPriority);

/// <summary>How one request was signed, or why it was not.</summary>
public sealed record SignOutcome(
    byte[]? SignatureRs, ISignerBackend Backend, bool Edge, int RetryCount, bool FallbackTriggered, double KmsMs,
    string? ErrorType, string? ErrorMessage)
{
    public bool Success => SignatureRs is not null;
}

/// <summary>
/// The seed's failure policy around the signer backends: the edge backend behind its circuit breaker, with retries
/// (exponential backoff and jitter) for service errors, a timeout per call (<c>kms_timeout_ms</c>), and a fallback to
/// the central backend (its own timeout, <c>fallback_timeout_ms</c>). No retry or wait runs past the request's deadline.
/// </summary>
public sealed class FallbackSigner(
    KmsCircuitBreakers breakers, KmsBudget budget, SignerMetrics metrics, IOptions<FailurePolicyOptions> options, TimeProvider time,
    ILogger<FallbackSigner> logger)
{
    private readonly FailurePolicyOptions _policy = options.Value;

    /// <summary>Below this much time before the deadline no call is started.</summary>
    private static readonly TimeSpan MinimumCallTime = TimeSpan.FromMilliseconds(20);

    /// <summary>Signs <paramref name="job"/> on <paramref name="path"/>: the edge backend first, central if the policy allows.</summary>
    public async Task<SignOutcome> SignAsync(SignJob job, SigningPath path, ISignerBackend edge, EdgeSignerFlags flags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(flags);
        var central = job.Key.Central;
        if (path == SigningPath.Central)
        {
            var routed = await TryBackendAsync(job, new BackendCall(central, TimeSpan.FromMilliseconds(flags.KmsTimeoutMs), _policy.MaxRetries), cancellationToken);
            return routed.Outcome(central, edge: false, fallback: false, previous: null);
        }

        var edgeTry = await TryBackendAsync(job, new BackendCall(edge, TimeSpan.FromMilliseconds(flags.KmsTimeoutMs), _policy.MaxRetries,
            UseBreaker: flags.CircuitBreakerEnabled, ReserveForFallback: _policy.FallbackToCentral), cancellationToken);
        if (edgeTry.Signature is not null)
        {
            return edgeTry.Outcome(edge, edge: true, fallback: false, previous: null);
        }

        var edgeFault = edgeTry.Fault!;
        var allowed = job.Key.FallbackOnConfigurationError;
        if (edgeFault.Kind == KmsFaultKind.Configuration)
        {
            logger.LogCritical(
                "ALERT: KMS key {KmsKeyId} in {KmsRegion} cannot sign: {ErrorType} ({Detail}). Fallback {Fallback}",
                edge.KeyId, edge.Region, edgeFault.ErrorType, edgeFault.Detail, allowed ? "allowed by the key's policy" : "not allowed by the key's policy");
            if (!allowed)
            {
                return edgeTry.Outcome(edge, edge: true, fallback: false, previous: null);
            }
        }

        if (!_policy.FallbackToCentral)
        {
            return edgeTry.Outcome(edge, edge: true, fallback: false, previous: null);
        }

        var fallback = await TryBackendAsync(job, new BackendCall(central, TimeSpan.FromMilliseconds(_policy.FallbackTimeoutMs), MaxRetries: 0),
            cancellationToken);
        return fallback.Outcome(central, edge: false, fallback: true, previous: (edge, edgeTry));
    }

    /// <summary>
    /// One backend's try: its call timeout and retries; whether its breaker applies; whether to leave time before the
    /// deadline for the central fallback.
    /// </summary>
    private sealed record BackendCall(ISignerBackend Backend, TimeSpan CallTimeout, int MaxRetries, bool UseBreaker = false, bool ReserveForFallback = false);

    private sealed record Attempt(byte[]? Signature, KmsFault? Fault, int Retries, double KmsMs)
    {
        public SignOutcome Outcome(ISignerBackend backend, bool edge, bool fallback, (ISignerBackend Backend, Attempt Attempt)? previous)
        {
            var retries = Retries + (previous?.Attempt.Retries ?? 0);
            var kmsMs = KmsMs + (previous?.Attempt.KmsMs ?? 0);
            if (Signature is not null)
            {
                var why = previous is { } p ? $"edge {p.Backend.Region}: {p.Attempt.Fault!.ErrorType} ({p.Attempt.Fault.Detail})" : null;
                return new SignOutcome(Signature, backend, edge, retries, fallback, kmsMs, previous?.Attempt.Fault?.ErrorType, why);
            }

            if (previous is { } both)
            {
                return new SignOutcome(null, backend, edge, retries, fallback, kmsMs, "signing_failed",
                    $"edge {both.Backend.Region}: {both.Attempt.Fault!.ErrorType} ({both.Attempt.Fault.Detail}); " +
                    $"central {backend.Region}: {Fault!.ErrorType} ({Fault.Detail})");
            }

            return new SignOutcome(null, backend, edge, retries, fallback, kmsMs,
                Fault!.Kind == KmsFaultKind.Configuration ? Fault.ErrorType : "signing_failed",
                $"{(edge ? "edge" : "central")} {backend.Region}: {Fault.ErrorType} ({Fault.Detail})");
        }
    }

    private async Task<Attempt> TryBackendAsync(SignJob job, BackendCall call, CancellationToken cancellationToken)
    {
        var (backend, callTimeout, maxRetries, useBreaker, reserveForFallback) = call;
        var deadline = job.Deadline;
        var retries = 0;
        double kmsMs = 0;
        while (true)
        {
            var left = deadline - time.GetUtcNow();
            // Keep enough of the deadline for the central fallback: at most its timeout, at most half of what is left.
            var reserve = reserveForFallback
                ? TimeSpan.FromMilliseconds(Math.Min(_policy.FallbackTimeoutMs, left.TotalMilliseconds / 2))
                : TimeSpan.Zero;
            var tooLate = new KmsFault(KmsFaultKind.Timeout, "deadline_exceeded", "too little time left before the request's deadline");
            if (left - reserve < MinimumCallTime)
            {
                return new Attempt(null, tooLate, retries, kmsMs);
            }

            // The breakers (when the flag has them) come first, so an open one refuses before the call takes budget.
            byte[]? signature = null;
            KmsFault fault;
            try
            {
                var passed = await breakers.TrySendAsync(backend.KeyId, backend.Region, useBreaker, async () =>
                {
                    // The global KMS budget: wait for a token as long as the deadline allows (queued work waits; a
                    // synchronous request that cannot wait falls back to central, which has a budget of its own). Every
                    // backend has one, local key files too (region local), so embedded mode shows the same guardrails.
                    if (!await budget.AcquireAsync(backend.Region, deadline - reserve - MinimumCallTime, cancellationToken, job.LowPriority))
                    {
                        throw new KmsCallFailedException(new KmsFault(KmsFaultKind.Throttled, "kms_budget_exhausted",
                            $"no KMS budget left in {backend.Region} before the deadline"), reachedBackend: false);
                    }

                    var timeout = Min(callTimeout, deadline - time.GetUtcNow() - reserve);
                    if (timeout < MinimumCallTime)
                    {
                        throw new KmsCallFailedException(tooLate, reachedBackend: false);
                    }

                    var started = time.GetTimestamp();
                    using var timeoutSource = new CancellationTokenSource(timeout, time);
                    try
                    {
                        // Bounded by its timeout alone: a call that reached KMS is seen through and its signature
                        // recorded, even if the message is cancelled meanwhile (the broker went away), or its
                        // redelivery would sign at KMS a second time.
                        var der = await backend.SignDigestAsync(job.Digest, timeoutSource.Token);
                        var rs = EcdsaSignature.DerToRs(der);
                        if (!job.Key.Verify(job.Digest, rs))
                        {
                            throw new InvalidOperationException("The backend returned a signature that does not verify.");
                        }

                        signature = rs;
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new KmsCallFailedException(KmsFault.Classify(ex, timedOut: timeoutSource.IsCancellationRequested), reachedBackend: true, ex);
                    }
                    finally
                    {
                        kmsMs += time.GetElapsedTime(started).TotalMilliseconds;
                    }
                }, cancellationToken);
                if (!passed)
                {
                    return new Attempt(null, new KmsFault(KmsFaultKind.Throttled, "circuit_open", "the circuit breaker is open"), retries, kmsMs);
                }

                RecordKmsCall(backend, "success");
                return new Attempt(signature, null, retries, kmsMs);
            }
            catch (KmsCallFailedException failed) when (!failed.ReachedBackend)
            {
                return new Attempt(null, failed.Fault, retries, kmsMs);
            }
            catch (KmsCallFailedException failed)
            {
                fault = failed.Fault;
            }

            RecordKmsCall(backend, fault.Kind switch
            {
                KmsFaultKind.Throttled => "throttled",
                KmsFaultKind.Timeout => "timeout",
                _ => "error",
            });

            logger.LogWarning("KMS {Operation} on {KmsKeyId} in {KmsRegion} failed: {ErrorType} ({Detail}), attempt {Attempt}",
                "Sign", backend.KeyId, backend.Region, fault.ErrorType, fault.Detail, retries + 1);
            if (fault.Kind != KmsFaultKind.Transient || retries >= maxRetries)
            {
                return new Attempt(null, fault, retries, kmsMs);
            }

            var pause = Backoff.Delay(retries + 1, TimeSpan.FromMilliseconds(_policy.BaseDelayMs), TimeSpan.FromMilliseconds(_policy.MaxDelayMs),
                _policy.Jitter, Random.Shared.NextDouble());
            if (time.GetUtcNow() + pause + reserve + MinimumCallTime > deadline)
            {
                // Waiting out the backoff would leave no time to answer: fall back (or fail) now.
                return new Attempt(null, fault with { Detail = fault.Detail + "; no time left to retry before the deadline" }, retries, kmsMs);
            }

            await Task.Delay(pause, time, cancellationToken);
            retries++;
        }
    }

    private void RecordKmsCall(ISignerBackend backend, string outcome) =>
        metrics.RecordKmsCall(backend.KeyId, backend.Region, "Sign", outcome, billed: backend is KmsSigner);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
