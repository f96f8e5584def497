using System.Collections.Concurrent;
using EdgeSigner.Client;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Testing;
using MassTransit;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The samples of docs/bus-clients.md, compiled: the lines between each pair of markers are one of the page's code
/// blocks, character for character (<see cref="BusTenantTests"/> checks that, then runs them).
/// </summary>
public static class BusClientSample
{
    public static async Task<string> SignAsync(Uri rabbitMq, string brokerUser, string password, Uri ingress, string tenantId, string kid, byte[] payload)
    {
        // sample:start
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMq, h =>
            {
                h.Username(brokerUser);
                h.Password(password);
            });
            cfg.UseBrokerIdentity(brokerUser); // RabbitMQ checks user_id against the connection's user
        });
        await bus.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = ingress }; // where GET /v1/keys is served
            using var keys = new PublishedKeys(http);
            var signer = new EdgeSignerClient(bus, keys, brokerUser, tenantId, kid);
            var signed = await signer.SignAsync(payload, SignatureFormats.Jws); // throws EdgeSignerException when refused
            return signed.Result; // the compact JWS, already verified against the published key
        }
        finally
        {
            await bus.StopAsync();
        }
        // sample:end
    }

    public static async Task<(BatchCompleted Completed, IReadOnlyDictionary<string, string> Signed)> SignBatchAsync(
        Uri rabbitMq, string brokerUser, string password, Uri ingress, string tenantId, string kid, IReadOnlyDictionary<string, byte[]> payloads)
    {
        // batch-sample:start
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMq, h =>
            {
                h.Username(brokerUser);
                h.Password(password);
            });
            cfg.UseBrokerIdentity(brokerUser);
        });
        await bus.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = ingress };
            using var keys = new PublishedKeys(http);
            var signer = new EdgeSignerClient(bus, keys, brokerUser, tenantId, kid);
            var batchId = NewId.NextGuid();
            var signed = new ConcurrentDictionary<string, string>(); // item id -> its verified JWS
            var completed = new TaskCompletionSource<BatchCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
            await bus.ConnectBatchResultsAsync(brokerUser, e =>
            {
                e.ConcurrentMessageLimit = 1; // in order: a batch's BatchCompleted comes after its results
                e.Handler<BatchItemEnded>(async context => // VerifyAsync throws EdgeSignerException for a failed item
                    signed[context.Message.ItemId] = (await signer.VerifyAsync(context.Message, payloads[context.Message.ItemId])).Result);
                e.Handler<BatchCompleted>(context =>
                    Task.FromResult(context.Message.BatchId == batchId && completed.TrySetResult(context.Message)));
            });
            var items = payloads.Select(p => new BatchItem(p.Key, p.Value, SignatureFormats.Jws)).ToList();
            await signer.SubmitBatchAsync(items, batchId); // throws EdgeSignerException when refused
            return (await completed.Task.WaitAsync(TimeSpan.FromMinutes(5)), signed);
        }
        finally
        {
            await bus.StopAsync();
        }
        // batch-sample:end
    }

    /// <summary>The lines between the markers <c>// {name}:start</c> and <c>// {name}:end</c>, without the method's indentation.</summary>
    public static string Text(string name = "sample")
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "tests", "EndToEnd.Tests", "BusClientSample.cs"));
        var start = Array.FindIndex(lines, l => l.Trim() == $"// {name}:start");
        var end = Array.FindIndex(lines, l => l.Trim() == $"// {name}:end");
        return string.Join('\n', lines[(start + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()));
    }
}
