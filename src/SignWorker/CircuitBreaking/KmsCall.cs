using EdgeSigner.SignWorker.Signing;
using MassTransit.Middleware;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>
/// One call to a signer backend, as the context of its key's breaker pipe (<see cref="KmsBreaker"/>): the work to
/// run once every breaker has let it through.
/// </summary>
public sealed class KmsCall(Func<Task> work, CancellationToken cancellationToken) : BasePipeContext(cancellationToken)
{
    public Func<Task> Work { get; } = work;

    /// <summary>False while a breaker may still refuse the call: an exception out of the pipe then means "open".</summary>
    public bool PassedBreakers { get; set; }
}

/// <summary>
/// A failed backend call with its classification. <see cref="ReachedBackend"/> is false when the call never went out
/// (no KMS budget before the deadline, too little time left): such a failure says nothing about the backend, and no
/// breaker counts it.
/// </summary>
public sealed class KmsCallFailedException : Exception
{
    public KmsCallFailedException(KmsFault fault, bool reachedBackend, Exception? inner = null)
        : base($"{fault?.ErrorType}: {fault?.Detail}", inner)
    {
        ArgumentNullException.ThrowIfNull(fault);
        Fault = fault;
        ReachedBackend = reachedBackend;
    }

    public KmsCallFailedException()
        : this(new KmsFault(KmsFaultKind.Transient, "signer_error", "unspecified"), reachedBackend: false)
    {
    }

    public KmsCallFailedException(string message)
        : this(new KmsFault(KmsFaultKind.Transient, "signer_error", message), reachedBackend: false)
    {
    }

    public KmsCallFailedException(string message, Exception inner)
        : this(new KmsFault(KmsFaultKind.Transient, "signer_error", message), reachedBackend: false, inner)
    {
    }

    public KmsFault Fault { get; }

    public bool ReachedBackend { get; }

    /// <summary>What the throttle breaker counts: KMS refused for rate.</summary>
    public bool IsThrottle => ReachedBackend && Fault.Kind == KmsFaultKind.Throttled;

    /// <summary>What the failure breaker counts: KMS service errors, unreachable KMS, and calls that hung past their timeout.</summary>
    public bool IsServiceFailure => ReachedBackend && Fault.Kind is KmsFaultKind.Transient or KmsFaultKind.Timeout;
}
