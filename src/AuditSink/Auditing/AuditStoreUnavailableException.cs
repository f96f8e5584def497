namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// The audit store cannot be reached (PostgreSQL down, restarting, or the network to it cut). The sink's retry
/// policy waits this out for as long as it lasts, keeping the batch unacknowledged in its durable queue.
/// </summary>
public sealed class AuditStoreUnavailableException : Exception
{
    public AuditStoreUnavailableException()
    {
    }

    public AuditStoreUnavailableException(string message) : base(message)
    {
    }

    public AuditStoreUnavailableException(string message, Exception inner) : base(message, inner)
    {
    }

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) says the store is unreachable rather than the data wrong.</summary>
    public static bool IsUnavailable(Exception? exception) => ServiceDefaults.Outage.OfDatabase(exception);
}
