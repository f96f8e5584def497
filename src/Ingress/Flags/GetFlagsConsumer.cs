using EdgeSigner.Contracts.Flags;
using MassTransit;

namespace EdgeSigner.Ingress.Flags;

/// <summary>Answers a worker's <see cref="GetFlags"/> with the stored snapshot.</summary>
public sealed class GetFlagsConsumer(FlagStore store) : IConsumer<GetFlags>
{
    public async Task Consume(ConsumeContext<GetFlags> context) =>
        await context.RespondAsync(await store.LoadAsync(context.CancellationToken));
}

public sealed class GetFlagsConsumerDefinition : ConsumerDefinition<GetFlagsConsumer>
{
    public GetFlagsConsumerDefinition() => EndpointName = GetFlags.Address.AbsolutePath;
}
