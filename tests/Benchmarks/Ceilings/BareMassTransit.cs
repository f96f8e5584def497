using MassTransit;

namespace EdgeSigner.Benchmarks.Ceilings;

/// <summary>A request the size of a <c>SignRequested</c> (a 32-byte digest and the ids around it).</summary>
public sealed record BareRequest(Guid RequestId, string TenantId, string Kid, byte[] Digest, string Padding);

/// <summary>An answer the size of a <c>SignCompleted</c> with its log.</summary>
public sealed record BareResponse(Guid RequestId, byte[] Signature, byte[] SignatureDer, string Padding);

/// <summary>
/// The bus ceiling: MassTransit request/response over the same RabbitMQ (its own virtual host) with a consumer
/// that does nothing but answer, with the pipeline's message sizes and the worker's consumer limits.
/// </summary>
public sealed class BareMassTransit : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private BareMassTransit(IBusControl bus, IRequestClient<BareRequest> client)
    {
        _bus = bus;
        Client = client;
    }

    public IRequestClient<BareRequest> Client { get; }

    public static async Task<BareMassTransit> StartAsync(string amqpUri, int consumerConcurrency, int prefetch)
    {
        var uri = new Uri(amqpUri);
        var user = uri.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(uri, h =>
            {
                h.Username(Uri.UnescapeDataString(user[0]));
                h.Password(Uri.UnescapeDataString(user[1]));
                h.PublisherConfirmation = true;
            });
            cfg.ReceiveEndpoint("bare-requests", e =>
            {
                e.PrefetchCount = prefetch;
                e.ConcurrentMessageLimit = consumerConcurrency;
                e.Handler<BareRequest>(context => context.RespondAsync(new BareResponse(context.Message.RequestId, new byte[64], new byte[72], Padding(400))));
            });
        });
        await bus.StartAsync();
        var client = bus.CreateRequestClient<BareRequest>(new Uri("queue:bare-requests"), RequestTimeout.After(s: 30));
        return new BareMassTransit(bus, client);
    }

    public static BareRequest NewRequest() => new(NewId.NextGuid(), "bench", "es256-e2e", new byte[32], Padding(150));

    private static string Padding(int length) => new('p', length);

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
