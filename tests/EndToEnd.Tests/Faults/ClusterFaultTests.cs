using System.Diagnostics;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Testing;
using RabbitMQ.Client;

namespace EdgeSigner.EndToEnd.Tests.Faults;

/// <summary>
/// Issue 19's scenarios: losing a machine. A three-node RabbitMQ cluster with quorum queues, and a PostgreSQL primary
/// with a synchronous standby, each of the test's own; the same traffic and the same count as the fault suite.
/// </summary>
[Collection(nameof(FaultSuiteTests))]
public sealed class ClusterFaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Traffic = FaultRig.Outage(14, 60);
    private static readonly int BatchItems = FaultRig.LongForm ? 2000 : 300;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(FaultRig.LongForm ? 180 : 60);

    private static Dictionary<string, string> OnCluster(LocalRabbitCluster cluster) => new()
    {
        ["EdgeSigner:RabbitMq:ClusterNodes"] = cluster.ClusterNodes,
    };

    [Fact]
    public async Task Kill_9_of_the_RabbitMQ_node_that_leads_the_sign_queue()
    {
        await using var cluster = await LocalRabbitCluster.StartAsync();
        await using var rig = await FaultRig.StartAsync(workers: 2, rabbitMq: cluster.AmqpUri, settings: OnCluster(cluster));

        // The queues that carry work and audit events are quorum queues with the delivery-limit policy; per-instance
        // ones stay classic and without it (an expired reply is not a poison message).
        var queues = await cluster.QueuesAsync();
        var listing = string.Join('\n', queues.Select(q => $"{q.Name} {q.Type} durable={q.Durable} policy={q.Policy}"));
        output.WriteLine(listing);
        var byName = queues.ToDictionary(q => q.Name, StringComparer.Ordinal);
        Assert.Equal("quorum", byName[SignQueues.SignRequested].Type);
        Assert.Equal("quorum", byName[SignQueues.BatchItems].Type);
        Assert.All(queues.Where(q => q.Durable), q => Assert.True(q.Type == "quorum", listing));
        Assert.All(queues.Where(q => q.Durable && q.Name != LocalRabbitCluster.DeadLetterQueue), q => Assert.True(q.Policy == "edgesigner-delivery-limit", listing));
        Assert.All(queues.Where(q => !q.Durable), q => Assert.True(q.Type == "classic" && q.Policy is null, listing));
        Assert.Contains(queues, q => !q.Durable); // the flag fan-out and reply queues of each instance
        await A_message_past_the_delivery_limit_goes_to_the_dead_letter_queue(cluster);

        LocalRabbitMq? killed = null;
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            killed = await cluster.LeaderOfAsync(SignQueues.SignRequested);
            killed.Kill();
        });

        var alive = cluster.Others(killed!)[0];
        var leader = await Eventually.GetAsync(() => cluster.LeaderOfAsync(SignQueues.SignRequested, via: alive), l => l != killed,
            TimeSpan.FromSeconds(30), "a new leader of the sign queue");
        output.WriteLine($"killed {killed!.NodeName}; the sign queue is now led by {leader.NodeName}");
        await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(60), "a signature with one node gone");

        // A call in flight on the dead node's connections ends with a clear error (or its client's timeout): it was
        // never confirmed to its caller, and nothing confirmed is lost.
        Check(await rig.CountAsync("8. kill -9 of the RabbitMQ node leading the sign queue (3 nodes, quorum queues)", Settle), rig, allowNoAnswer: true);
    }

    /// <summary>
    /// A message that is never acknowledged (its consumer dies each time) is redelivered 20 times, then moved to
    /// <c>edge-signer-dead-letters</c> with the queue it came from: the policy of deploy/rabbitmq/definitions.json.
    /// </summary>
    private static async Task A_message_past_the_delivery_limit_goes_to_the_dead_letter_queue(LocalRabbitCluster cluster)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(cluster.AmqpUri) };
        await using var connection = await factory.CreateConnectionAsync();
        // With publisher confirms the publish returns once the queue holds the message (a quorum queue's majority).
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        const string queue = "sign-poison-probe"; // a name of EdgeSigner's, so the policy applies
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync(string.Empty, queue, new ReadOnlyMemory<byte>("never acknowledged"u8.ToArray()));
        var deliveries = 0;
        while (deliveries < 100 && await channel.BasicGetAsync(queue, autoAck: false) is { } delivery)
        {
            deliveries++;
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: true);
        }

        // RabbitMQ counts returns and dead-letters once the count exceeds the limit: the first delivery plus 20 more.
        Assert.Equal(21, deliveries);
        // The dead-letter queue also keeps requests that expired unconsumed (reason "expired"); find the probe among them.
        var dead = await Eventually.GetAsync(async () =>
        {
            while (await channel.BasicGetAsync(LocalRabbitCluster.DeadLetterQueue, autoAck: true) is { } letter)
            {
                if (System.Text.Encoding.UTF8.GetString(letter.Body.Span) == "never acknowledged")
                {
                    return letter;
                }
            }

            return null;
        }, l => l is not null, TimeSpan.FromSeconds(10), "the probe in the dead-letter queue");
        var death = Assert.IsAssignableFrom<IList<object>>(dead!.BasicProperties.Headers!["x-death"]);
        var first = Assert.IsAssignableFrom<IDictionary<string, object>>(death[0]);
        Assert.Equal(queue, System.Text.Encoding.UTF8.GetString((byte[])first["queue"]));
        Assert.Equal("delivery_limit", System.Text.Encoding.UTF8.GetString((byte[])first["reason"]));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
    }

    [Fact]
    public async Task Two_of_three_RabbitMQ_nodes_down_then_back()
    {
        await using var cluster = await LocalRabbitCluster.StartAsync();
        await using var rig = await FaultRig.StartAsync(rabbitMq: cluster.AmqpUri, settings: OnCluster(cluster));
        var duringOutage = new List<FaultRig.SyncOutcome>();
        var outage = FaultRig.Outage(8, 30);
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var down = Stopwatch.StartNew();
            cluster.Nodes[1].Kill();
            cluster.Nodes[2].Kill();
            await Task.Delay(TimeSpan.FromSeconds(2));
            duringOutage.Add(await rig.SignOnceAsync());
            if (outage > down.Elapsed)
            {
                await Task.Delay(outage - down.Elapsed);
            }

            await Task.WhenAll(cluster.Nodes[1].StartNodeAsync(), cluster.Nodes[2].StartNodeAsync());
        });

        // Without a majority nothing is confirmed: a synchronous call gets a clear error, not a signature and not a hang.
        var probe = Assert.Single(duringOutage);
        output.WriteLine($"without a majority a call answered {probe.Status} {probe.ErrorType} after {probe.Took.TotalSeconds:F1} s");
        Assert.True(probe.Status is 503 or 504 && probe.ErrorType is not null, $"without a majority a call answered {probe.Status} {probe.ErrorType} {probe.Why}");

        await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(90), "a signature once the majority is back");
        var report = await rig.CountAsync($"9. two of three RabbitMQ nodes down for {outage.TotalSeconds:F0} s", Settle);
        output.WriteLine(string.Join('\n', (await cluster.QueuesAsync()).Select(q => $"{q.Name}: {q.Messages} messages, {q.Consumers} consumers")));
        Assert.True(report.FailedClearly > 0, "calls made without a majority should have failed with a clear error");
        Check(report, rig, allowNoAnswer: true, allowExtraKms: true);
    }

    [Fact]
    public async Task A_network_partition_of_the_node_that_leads_the_sign_queue()
    {
        await using var cluster = await LocalRabbitCluster.StartAsync();
        await using var rig = await FaultRig.StartAsync(workers: 2, rabbitMq: cluster.AmqpUri, settings: OnCluster(cluster));
        var partition = TimeSpan.FromSeconds(20);
        LocalRabbitMq? cut = null;
        FaultRig.SyncOutcome? duringPartition = null;
        var seenFromMajority = new List<string>();
        await rig.RunAsync(partition + TimeSpan.FromSeconds(8), BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            cut = await cluster.LeaderOfAsync(SignQueues.SignRequested);
            var majority = cluster.Others(cut)[0];
            var apart = Stopwatch.StartNew();
            await cluster.PartitionAsync(cut);

            // The cut-off node pauses (pause_minority) and its clients move; the majority goes on signing.
            seenFromMajority.AddRange(await Eventually.GetAsync(majority.RunningNodesAsync, running => !running.Contains(cut.NodeName),
                TimeSpan.FromSeconds(15), "the majority without the cut-off node"));
            // The partition lasts 20 s, or until a client has moved and signed if that takes longer (a client on the
            // cut-off node has answered 503s for up to 15 s while it reconnected).
            duringPartition = await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(40), "a signature during the partition");
            if (partition > apart.Elapsed)
            {
                await Task.Delay(partition - apart.Elapsed); // how long the partition lasts, not a wait for a condition
            }

            await cluster.HealAsync(cut);
        });

        output.WriteLine($"cut off {cut!.NodeName} for {partition.TotalSeconds:F0} s; the majority saw {string.Join(", ", seenFromMajority)}; "
            + $"a call during the partition answered {duringPartition!.Status} in {duringPartition.Took.TotalMilliseconds:F0} ms");
        Assert.DoesNotContain(cut.NodeName, seenFromMajority);

        // Healed, the node starts its broker again by itself and is a member of the cluster with the other two.
        await Eventually.GetAsync(cluster.Others(cut)[0].RunningNodesAsync, running => running.Count == cluster.Nodes.Count, TimeSpan.FromSeconds(60),
            "all three nodes running after the partition");
        await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(60), "a signature after the partition");
        Check(await rig.CountAsync($"11. the node leading the sign queue partitioned from the other two for {partition.TotalSeconds:F0} s (pause_minority)", Settle),
            rig, allowNoAnswer: true, allowExtraKms: true);
    }

    [Fact]
    public async Task PostgreSql_primary_killed_and_the_standby_promoted()
    {
        await using var postgres = await LocalPostgresPair.StartAsync();
        await using var rig = await FaultRig.StartAsync(postgres: postgres.ConnectionString);
        var acknowledgedBefore = 0L;
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            acknowledgedBefore = await Sql.ScalarAsync<long>(postgres.Primary.ConnectionString, "SELECT count(*) FROM signer.sign_results WHERE signature IS NOT NULL");
            postgres.Primary.Kill();
            await Task.Delay(TimeSpan.FromSeconds(1));
            await postgres.Standby.PromoteAsync();
        });

        await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(60), "a signature on the promoted standby");
        // Synchronous replication: every result the old primary had committed is on the new one.
        var onStandby = await Sql.ScalarAsync<long>(postgres.Standby.ConnectionString, "SELECT count(*) FROM signer.sign_results WHERE signature IS NOT NULL");
        Assert.True(onStandby >= acknowledgedBefore, $"the promoted standby holds {onStandby} results, the primary had {acknowledgedBefore} before it died");
        Check(await rig.CountAsync("10. PostgreSQL primary killed, synchronous standby promoted", Settle), rig, allowNoAnswer: true, allowExtraKms: true);
    }

    private void Check(FaultReport report, FaultRig rig, bool allowNoAnswer = false, bool allowExtraKms = false)
    {
        if (report.AuditMissing > 0 || report.Lost > 0)
        {
            output.WriteLine(rig.MissingExplained);
            output.WriteLine(rig.Diagnostics());
            var logs = Path.Combine("results", "logs-" + report.Scenario.Split('.')[0]);
            rig.WriteLogs(logs);
            output.WriteLine($"every service's output: {Path.GetFullPath(logs)}");
        }

        FaultRig.Check(report, output, allowNoAnswer, allowExtraKms);
    }
}
