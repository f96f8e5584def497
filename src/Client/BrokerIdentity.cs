using MassTransit;

namespace EdgeSigner.Client;

/// <summary>The proof of who sends: the AMQP <c>user_id</c> property, which RabbitMQ checks against the connection's user.</summary>
public static class BrokerIdentity
{
    /// <summary>
    /// Sets <c>user_id</c> to <paramref name="brokerUser"/> (the user this bus connects as) on everything the bus
    /// sends or publishes. A worker refuses a sign request without it as <c>sender_not_allowed</c>.
    /// </summary>
    public static void UseBrokerIdentity(this IRabbitMqBusFactoryConfigurator configurator, string brokerUser)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        ArgumentException.ThrowIfNullOrWhiteSpace(brokerUser);
        configurator.ConfigureSend(send => send.UseSendExecute(context => Set(context, brokerUser)));
        configurator.ConfigurePublish(publish => publish.UseExecute(context => Set(context, brokerUser)));
    }

    private static void Set(SendContext context, string brokerUser)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.BasicProperties.UserId = brokerUser;
        }
    }
}
