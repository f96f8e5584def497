using Microsoft.Extensions.Logging;

namespace EdgeSigner.Contracts.Events;

/// <summary>
/// The seed's <c>EdgeSignerLog</c> as one structured log event: every field under its seed name (snake_case), so
/// the JSON lines of the ingress, the worker and the sink for one request share <c>request_id</c> and read alike.
/// Never carries payload bytes, keys or tokens: the TBS appears only as its SHA-256.
/// </summary>
public static partial class SignLog
{
    public static void Write(ILogger logger, string stage, EdgeSignerLog log)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(log);
        using var scope = logger.BeginScope(Fields(log));
        if (log.Success)
        {
            Succeeded(logger, stage, log.RequestId, log.TenantId, log.SigningMode, Math.Round(log.TTotalMs, 3));
        }
        else
        {
            Failed(logger, stage, log.RequestId, log.TenantId, log.ErrorType ?? "unknown", Math.Round(log.TTotalMs, 3));
        }
    }

    public static Dictionary<string, object?> Fields(EdgeSignerLog log) => new()
    {
        ["request_id"] = log.RequestId,
        ["tenant_id"] = log.TenantId,
        ["timestamp"] = log.Timestamp,
        ["region"] = log.Region,
        ["t_wasm_ms"] = Math.Round(log.TWasmMs, 3),
        ["t_kms_ms"] = Math.Round(log.TKmsMs, 3),
        ["t_total_ms"] = Math.Round(log.TTotalMs, 3),
        ["cpu_ms_used"] = Math.Round(log.CpuMsUsed, 3),
        ["memory_mb_used"] = log.MemoryMbUsed,
        ["tbs_hash"] = log.TbsHash,
        ["kms_key_id"] = log.KmsKeyId,
        ["kms_region"] = log.KmsRegion,
        ["success"] = log.Success,
        ["error_type"] = log.ErrorType,
        ["error_message"] = log.ErrorMessage,
        ["retry_count"] = log.RetryCount,
        ["fallback_triggered"] = log.FallbackTriggered,
        ["signing_mode"] = log.SigningMode,
        ["kid"] = log.Kid,
        ["format"] = log.Format,
        ["payload_size"] = log.PayloadSize,
        ["batch_id"] = log.BatchId,
        ["item_id"] = log.ItemId,
    };

    // The template's names are the seed's, so they agree with the scope's fields rather than duplicating them.
#pragma warning disable IDE1006, CA1707
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "{stage}: signed {request_id} for {tenant_id} ({signing_mode}) in {t_total_ms} ms")]
    private static partial void Succeeded(ILogger logger, string stage, Guid request_id, string tenant_id, string signing_mode, double t_total_ms);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning,
        Message = "{stage}: {request_id} for {tenant_id} failed: {error_type} after {t_total_ms} ms")]
    private static partial void Failed(ILogger logger, string stage, Guid request_id, string tenant_id, string error_type, double t_total_ms);
#pragma warning restore IDE1006, CA1707
}
