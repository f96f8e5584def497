using System.Text.Json;

namespace EdgeSigner.Testing;

/// <summary>
/// Three RabbitMQ nodes of a test's own on this machine (Debian's rabbitmq-server, each with its own node name, ports
/// and data, one shared Erlang cookie), joined with <c>rabbitmqctl join_cluster</c>: enough for quorum queues to
/// keep a majority when one node dies.
/// </summary>
public sealed class LocalRabbitCluster : IAsyncDisposable
{
    private LocalRabbitCluster(IReadOnlyList<LocalRabbitMq> nodes) => Nodes = nodes;

    public IReadOnlyList<LocalRabbitMq> Nodes { get; }

    /// <summary>The virtual host of deploy/rabbitmq/definitions.json: durable queues are quorum queues there.</summary>
    public const string VirtualHost = "edgesigner";

    /// <summary>The queue of deploy/rabbitmq/definitions.json that takes what passed the delivery limit (and expired requests).</summary>
    public const string DeadLetterQueue = "edge-signer-dead-letters";

    /// <summary>The connection string the services take: the first node, guest on <see cref="VirtualHost"/>.</summary>
    public string AmqpUri => Nodes[0].AmqpUri + VirtualHost;

    /// <summary>The value of <c>EdgeSigner:RabbitMq:ClusterNodes</c>: every node, in order.</summary>
    public string ClusterNodes => string.Join(',', Nodes.Select(n => $"127.0.0.1:{n.Port}"));

    /// <summary>
    /// What the nodes run with, as deploy/rabbitmq/cluster.conf has it: a node cut off from the majority stops serving
    /// (its clients move to the other nodes) and starts again by itself when it sees them.
    /// </summary>
    public const string Config = "cluster_partition_handling = pause_minority\n";

    public static async Task<LocalRabbitCluster> StartAsync(int size = 3)
    {
        var cookie = LocalRabbitMq.NewCookie();
        var nodes = await Task.WhenAll(Enumerable.Range(0, size).Select(_ => LocalRabbitMq.StartAsync(cookie, Config)));
        foreach (var node in nodes.Skip(1))
        {
            await node.JoinAsync(nodes[0]);
        }

        // What an operator loads into a new cluster: the virtual host whose durable queues are quorum queues, and the
        // policy that gives them a delivery limit and a dead-letter queue.
        await nodes[0].QueryAsync("import_definitions", Path.Combine(Repository.Root, "deploy", "rabbitmq", "definitions.json"));
        await nodes[0].QueryAsync("set_permissions", "-p", VirtualHost, "guest", ".*", ".*", ".*");

        return new LocalRabbitCluster(nodes);
    }

    /// <summary>The node that leads quorum queue <paramref name="queue"/> now, asked of <paramref name="via"/> (any running node).</summary>
    public async Task<LocalRabbitMq> LeaderOfAsync(string queue, LocalRabbitMq? via = null)
    {
        var json = await (via ?? Nodes[0]).QueryAsync("list_queues", "-p", VirtualHost, "name", "type", "leader", "--formatter", "json");
        var row = JsonDocument.Parse(json).RootElement.EnumerateArray().FirstOrDefault(q => q.GetProperty("name").GetString() == queue);
        if (row.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"no queue {queue}: {json}");
        }

        var type = row.GetProperty("type").GetString();
        var leader = row.GetProperty("leader").GetString();
        return type == "quorum" && Nodes.FirstOrDefault(n => n.NodeName == leader) is { } node
            ? node
            : throw new InvalidOperationException($"{queue} is a {type} queue led by '{leader}', not a quorum queue of this cluster");
    }

    /// <summary>A network partition: <paramref name="node"/> on one side, the rest of the cluster on the other.</summary>
    public Task PartitionAsync(LocalRabbitMq node) => node.CutOffAsync(Others(node));

    /// <summary>Ends <see cref="PartitionAsync"/>.</summary>
    public Task HealAsync(LocalRabbitMq node) => node.ReconnectAsync(Others(node));

    /// <summary>Every node but <paramref name="node"/>.</summary>
    public IReadOnlyList<LocalRabbitMq> Others(LocalRabbitMq node) => Nodes.Where(n => n != node).ToList();

    public sealed record QueueInfo(string Name, string Type, bool Durable, string? Policy, long Messages, long Consumers);

    /// <summary>Every queue of <see cref="VirtualHost"/>: its type, whether it is durable (a per-instance queue is not), its policy, messages and consumers.</summary>
    public async Task<IReadOnlyList<QueueInfo>> QueuesAsync()
    {
        var json = await Nodes[0].QueryAsync("list_queues", "-p", VirtualHost, "name", "type", "durable", "policy", "messages", "consumers", "--formatter", "json");
        return JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Select(q => new QueueInfo(q.GetProperty("name").GetString()!, q.GetProperty("type").GetString()!, q.GetProperty("durable").GetBoolean(),
                q.TryGetProperty("policy", out var policy) && policy.ValueKind == JsonValueKind.String && policy.GetString() is { Length: > 0 } p ? p : null,
                q.GetProperty("messages").GetInt64(), q.GetProperty("consumers").GetInt64()))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes.Reverse())
        {
            await node.DisposeAsync();
        }
    }
}
