using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.Client;

/// <summary>The proof of who sends: the AMQP <c>user_id</c> property, which RabbitMQ checks against the connection's user.</summary>
public static class BrokerIdentity
{
    /// <summary>
    /// Sets <c>user_id</c> to <paramref name="brokerUser"/> (the user this bus connects as) on everything the bus
    /// sends or publishes. A worker refuses a sign request without it as <c>sender_not_allowed</c>. With
    /// <paramref name="ownNames"/> (a tenant's service), the bus's own temporary queue, where answers arrive, is named
    /// under the user's prefix (<see cref="TenantBusNames.Prefix"/>) too, so the user needs no permission beyond it.
    /// </summary>
    public static void UseBrokerIdentity(this IRabbitMqBusFactoryConfigurator configurator, string brokerUser, bool ownNames = true)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        ArgumentException.ThrowIfNullOrWhiteSpace(brokerUser);
        if (ownNames)
        {
            configurator.OverrideDefaultBusEndpointQueueName(TenantBusNames.ReplyQueue(brokerUser));
        }

        configurator.ConfigureSend(send => send.UseSendExecute(context => Set(context, brokerUser)));
        configurator.ConfigurePublish(publish => publish.UseExecute(context => Set(context, brokerUser)));
    }

    /// <summary>The validated broker user that sent the message; null on the in-memory bus or when it carries none.</summary>
    public static string? SenderOf(ConsumeContext context) =>
        context?.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) == true && rabbit.Properties.IsUserIdPresent()
            ? rabbit.Properties.UserId
            : null;

    private static void Set(SendContext context, string brokerUser)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.BasicProperties.UserId = brokerUser;
        }
    }
}
