using EdgeSigner.Client;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Testing;
using MassTransit;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The sample of docs/bus-clients.md, compiled: the lines between the markers are the page's code block, character
/// for character (<see cref="BusTenantTests"/> checks that, then runs it).
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
            var signer = new EdgeSignerClient(bus, keys, tenantId, kid);
            var signed = await signer.SignAsync(payload, SignatureFormats.Jws); // throws EdgeSignerException when refused
            return signed.Result; // the compact JWS, already verified against the published key
        }
        finally
        {
            await bus.StopAsync();
        }
        // sample:end
    }

    /// <summary>The lines between the markers, without the method's indentation.</summary>
    public static string Text()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "tests", "EndToEnd.Tests", "BusClientSample.cs"));
        var start = Array.FindIndex(lines, l => l.Trim() == "// sample:start");
        var end = Array.FindIndex(lines, l => l.Trim() == "// sample:end");
        return string.Join('\n', lines[(start + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()));
    }
}
