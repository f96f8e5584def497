namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// The broker names that belong to one tenant's broker user, all under the prefix <c>&lt;user&gt;.</c>, so that its
/// RabbitMQ permissions are that one prefix and nothing of EdgeSigner's own: it can neither read nor delete the sign
/// queue. An operator declares the two entry exchanges and binds them to EdgeSigner's queues (docs/bus-clients.md);
/// the tenant's service only writes to them.
/// </summary>
public static class TenantBusNames
{
    /// <summary>Why a message without a validated broker user (AMQP <c>user_id</c>) is refused as <c>sender_not_allowed</c>.</summary>
    public const string NoSenderDetail =
        "The message carries no validated sender: set the AMQP user_id property to your broker user (docs/bus-clients.md).";

    /// <summary>The prefix of every name the user may declare, write or read: <c>&lt;user&gt;.</c></summary>
    public static string Prefix(string brokerUser) => brokerUser + ".";

    /// <summary>The exchange a tenant's service sends <see cref="SignRequested"/> to; bound to the <c>sign-requested</c> queue.</summary>
    public static string SignExchange(string brokerUser) => Prefix(brokerUser) + "sign";

    /// <summary>The exchange a tenant's service sends <see cref="SubmitBusBatch"/> to; bound to <see cref="SubmitBusBatch.Queue"/>.</summary>
    public static string BatchesExchange(string brokerUser) => Prefix(brokerUser) + "batches";

    /// <summary>The durable queue the results of the user's batches are sent to unless a batch names another of its own.</summary>
    public static string ResultsQueue(string brokerUser) => Prefix(brokerUser) + "batch-results";

    /// <summary>A new name for the temporary queue a tenant's bus instance receives its replies on; its permissions allow no other.</summary>
    public static string ReplyQueue(string brokerUser) => Prefix(brokerUser) + "bus-" + Guid.NewGuid().ToString("N");

    public static Uri SignAddress(string brokerUser) => new($"exchange:{SignExchange(brokerUser)}");

    public static Uri BatchesAddress(string brokerUser) => new($"exchange:{BatchesExchange(brokerUser)}");

    /// <summary>Whether <paramref name="queue"/> is one of the user's own names (and so a place its results may go).</summary>
    public static bool IsOwnedBy(string queue, string brokerUser) =>
        queue is not null && brokerUser is not null && queue.Length is > 0 and <= 255 && queue.StartsWith(Prefix(brokerUser), StringComparison.Ordinal)
        && queue.Length > Prefix(brokerUser).Length && queue.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
