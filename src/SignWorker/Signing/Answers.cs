using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.SignWorker.Data;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>The reply a requester gets: a signature, a clear error, or the recorded result of a redelivery.</summary>
public static class Answers
{
    public static SignCompleted Completed(SignRequested request, string kid, SignOutcome outcome, EdgeSignerLog log)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(log);
        var signature = outcome.SignatureRs ?? throw new ArgumentException("The outcome holds no signature.", nameof(outcome));
        return new SignCompleted
        {
            RequestId = request.RequestId,
            TenantId = request.TenantId,
            Kid = kid,
            SigningMode = log.SigningMode,
            Region = outcome.Backend.Region,
            TbsHash = log.TbsHash,
            Signature = signature,
            SignatureDer = EcdsaSignature.RsToDer(signature),
            CompletedAt = log.Timestamp,
            Log = log,
        };
    }

    public static SignRejected Rejected(SignRequested request, EdgeSignerLog failed)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(failed);
        return new SignRejected { RequestId = request.RequestId, ErrorType = failed.ErrorType!, Message = failed.ErrorMessage ?? string.Empty, Log = failed };
    }

    /// <summary>Answers with a recorded result (a redelivery or a client's retry), if anyone waits for it.</summary>
    public static async Task ReplayAsync(ConsumeContext context, SignResultRecord recorded)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(recorded);
        if (context.ResponseAddress is null)
        {
            return;
        }

        if (recorded.Signature is { } signature)
        {
            await context.RespondAsync(new SignCompleted
            {
                RequestId = recorded.RequestId,
                TenantId = recorded.TenantId,
                Kid = recorded.Kid,
                SigningMode = recorded.SigningMode!,
                Region = recorded.Region!,
                TbsHash = recorded.TbsHash,
                Signature = signature,
                SignatureDer = EcdsaSignature.RsToDer(signature),
                CompletedAt = recorded.CompletedAt!.Value,
            });
        }
        else
        {
            await context.RespondAsync(new SignRejected { RequestId = recorded.RequestId, ErrorType = recorded.ErrorType!, Message = recorded.ErrorMessage ?? string.Empty });
        }
    }
}
