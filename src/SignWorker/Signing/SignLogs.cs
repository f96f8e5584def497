using EdgeSigner.SignWorker.Observability;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.SignWorker.Keys;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// The seed's <c>EdgeSignerLog</c> of one request, as the worker fills it: when it begins (the attempt), when the
/// backend answered, when it failed, and when a recorded result is replayed. Pure: the time is passed in.
/// </summary>
public static class SignLogs
{
    public static EdgeSignerLog Begin(SignRequested request, string tbsHash, ISignerBackend? backend, string mode, TimeSpan cpuAtStart, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new EdgeSignerLog
        {
            RequestId = request.RequestId,
            TenantId = request.TenantId,
            Timestamp = now,
            Region = request.Region ?? backend?.Region ?? string.Empty,
            TWasmMs = request.TbsBuildMs,
            TTotalMs = TotalMs(request, now),
            CpuMsUsed = CpuMsSince(cpuAtStart),
            MemoryMbUsed = ProcessLoad.WorkingSetMb,
            TbsHash = tbsHash,
            KmsKeyId = backend?.KeyId ?? string.Empty,
            KmsRegion = backend?.Region ?? string.Empty,
            SigningMode = mode,
            Kid = request.Kid,
            Format = request.Format,
            PayloadSize = request.PayloadSize,
            BatchId = request.BatchId,
            ItemId = request.ItemId,
        };
    }

    /// <summary>The attempt's log completed with what the failure policy reports.</summary>
    public static EdgeSignerLog End(EdgeSignerLog attempt, SignRequested request, SignOutcome outcome, TimeSpan cpuAtStart, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outcome);
        return attempt with
        {
            Timestamp = now,
            TKmsMs = outcome.KmsMs,
            TTotalMs = TotalMs(request, now),
            CpuMsUsed = CpuMsSince(cpuAtStart),
            KmsKeyId = outcome.Backend.KeyId,
            KmsRegion = outcome.Backend.Region,
            Region = request.Region ?? outcome.Backend.Region,
            SigningMode = outcome.Edge ? SigningModes.Edge : SigningModes.CentralFallback,
            Success = outcome.Success,
            ErrorType = outcome.ErrorType,
            ErrorMessage = outcome.ErrorMessage,
            RetryCount = outcome.RetryCount,
            FallbackTriggered = outcome.FallbackTriggered,
        };
    }

    public static EdgeSignerLog Failed(EdgeSignerLog log, SignRequested request, string errorType, string message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(request);
        return log with { Success = false, ErrorType = errorType, ErrorMessage = message, TTotalMs = TotalMs(request, now) };
    }

    /// <summary>The log of a recorded result, as it is published again when there is no outbox (embedded mode).</summary>
    public static EdgeSignerLog Replayed(SignRequested request, SignResultRecord recorded, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(recorded);
        return Begin(request, recorded.TbsHash, null, recorded.SigningMode ?? SigningModes.CentralFallback, ProcessLoad.CpuTime, now) with
        {
            Timestamp = recorded.CompletedAt ?? now,
            Region = request.Region ?? recorded.Region ?? string.Empty,
            KmsRegion = recorded.Region ?? string.Empty,
            Success = recorded.Signature is not null,
            ErrorType = recorded.ErrorType,
            ErrorMessage = recorded.ErrorMessage,
        };
    }

    /// <summary>From the ingress receiving the request to <paramref name="now"/>, never negative (clocks differ).</summary>
    public static double TotalMs(SignRequested request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Math.Max(0, (now - request.ReceivedAt).TotalMilliseconds);
    }

    private static double CpuMsSince(TimeSpan cpuAtStart) => (ProcessLoad.CpuTime - cpuAtStart).TotalMilliseconds;
}
