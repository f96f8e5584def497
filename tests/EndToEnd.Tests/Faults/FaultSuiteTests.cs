using EdgeSigner.Client;
using System.Diagnostics;
using System.Net;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Testing;
using MassTransit;
using static EdgeSigner.Testing.FakeKmsServer;

namespace EdgeSigner.EndToEnd.Tests.Faults;

/// <summary>
/// Issue 10's fault suite: steady mixed traffic against real processes, a fault, healing, then the count. In the
/// test command each scenario takes under a minute; EDGESIGNER_FAULTS_LONG=1 gives the issue's outage lengths and
/// writes the table to results/reliability.md (docs/reliability.md holds the last long run).
/// </summary>
[Collection(nameof(FaultSuiteTests))]
public sealed class FaultSuiteTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Traffic = FaultRig.Outage(14, 60);
    private static readonly int BatchItems = FaultRig.LongForm ? 2000 : 300;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(FaultRig.LongForm ? 180 : 60);

    [Fact]
    public async Task Kill_9_of_a_worker_mid_load_then_a_new_one()
    {
        await using var rig = await FaultRig.StartAsync(workers: 2);
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            rig.Workers[0].Kill();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await rig.RestartWorkerAsync(0);
        });

        // A worker killed mid-call may have had KMS sign what it never recorded: the next worker signs it again, so
        // KMS calls can exceed results by what was in flight; what the client and the store see is one signature each.
        Check(await rig.CountAsync("1. kill -9 of a worker mid-load, then a new one", Settle), allowNoAnswer: false, allowExtraKms: true);
    }

    [Fact]
    public async Task Kill_9_of_the_audit_sink_for_a_while()
    {
        await using var rig = await FaultRig.StartAsync();
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            rig.AuditSink.Kill();
            await Task.Delay(FaultRig.Outage(6, 30));
            await rig.RestartAuditSinkAsync();
        });

        Check(await rig.CountAsync($"2. kill -9 of the audit sink for {FaultRig.Outage(6, 30).TotalSeconds:F0} s", Settle));
    }

    [Fact]
    public async Task RabbitMq_stopped_and_started_again()
    {
        await using var broker = await LocalRabbitMq.StartAsync();
        await using var rig = await FaultRig.StartAsync(rabbitMq: broker.AmqpUri);
        var duringOutage = new List<FaultRig.SyncOutcome>();
        FaultRig.BatchSubmission? refused = null;
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            await broker.StopBrokerAsync();
            var down = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(2)); // the services notice the connection is gone
            duringOutage.Add(await rig.SignOnceAsync());
            refused = await rig.SubmitBatchAsync(50);
            await Task.Delay(FaultRig.Outage(5, 20) - down.Elapsed);
            await broker.StartBrokerAsync();
        });

        // While it was down: synchronous calls failed fast with 503, a batch was refused whole.
        var probe = Assert.Single(duringOutage);
        Assert.Equal(503, probe.Status);
        Assert.True(probe.Took < TimeSpan.FromSeconds(2), $"a synchronous call took {probe.Took} to fail while the broker was down");
        Assert.Equal(503, refused!.Status);

        // After: the services reconnected by themselves and sign again.
        var after = await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(60), "a signature after the broker came back");
        Assert.Equal(200, after.Status);
        var report = await rig.CountAsync($"3. RabbitMQ stopped for {FaultRig.Outage(5, 20).TotalSeconds:F0} s", Settle);
        output.WriteLine(rig.MissingExplained);
        output.WriteLine($"outbox rounds that published events the workers could not: {rig.LinesContaining("outcome events from the outbox")}");
        if (report.AuditMissing > 0)
        {
            output.WriteLine(rig.Diagnostics());
        }

        // A result recorded while the broker went away has its outcome event in the outbox, published from there.
        Check(report);
    }

    [Fact]
    public async Task PostgreSql_stopped_and_started_again()
    {
        await using var postgres = await LocalPostgres.StartAsync();
        await using var rig = await FaultRig.StartAsync(postgres: postgres.ConnectionString);
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            await postgres.StopServerAsync();
            await Task.Delay(FaultRig.Outage(6, 30));
            await postgres.StartServerAsync();
        });

        try
        {
            await Eventually.GetAsync(rig.SignOnceAsync, o => o.Status == 200, TimeSpan.FromSeconds(60), "a signature after PostgreSQL came back");
        }
        catch (TimeoutException)
        {
            output.WriteLine(rig.Diagnostics());
            throw;
        }

        var report = await rig.CountAsync($"4. PostgreSQL stopped for {FaultRig.Outage(6, 30).TotalSeconds:F0} s", Settle);
        Assert.True(report.FailedClearly > 0, "requests made while PostgreSQL was down should have failed with a clear error");
        Check(report, allowExtraKms: true); // a call signed at KMS whose result could not be recorded is signed again
    }

    [Fact]
    public async Task Kms_hanging_then_throttling_then_erroring()
    {
        await using var rig = await FaultRig.StartAsync();
        var phase = FaultRig.Outage(3, 10);
        await rig.RunAsync(Traffic, BatchItems, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var fault in new[] { FakeKmsServer.Fault.Hang, FakeKmsServer.Fault.Throttle, FakeKmsServer.Fault.InternalError })
            {
                rig.Pipeline.Kms.Inject(Pipeline.CentralKmsKeyId, fault);
                await Task.Delay(phase);
            }

            rig.Pipeline.Kms.Recover(Pipeline.CentralKmsKeyId);
        });

        var report = await rig.CountAsync($"5. KMS hanging, throttling, erroring ({phase.TotalSeconds:F0} s each)", Settle);
        Assert.True(report.FailedClearly > 0, "the KMS faults should have failed some requests, each with a clear error");
        Check(report, allowExtraKms: true);
    }

    [Fact]
    public async Task The_ingress_restarted_while_a_batch_is_being_submitted()
    {
        await using var rig = await FaultRig.StartAsync();
        await rig.RunAsync(TimeSpan.FromSeconds(FaultRig.LongForm ? 30 : 10), 100, async () =>
        {
            var submitting = rig.SubmitBatchAsync(FaultRig.LongForm ? 10_000 : 5_000);
            await Task.Delay(TimeSpan.FromMilliseconds(400));
            rig.Ingress.Kill();
            var submission = await submitting;
            output.WriteLine($"the submission cut by the restart answered {submission.Status}");
            await rig.RestartIngressAsync();
        });

        // A submission whose client got no 202 was never accepted: none of its items is signed, now or later.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(rig.Postgres, """
            SELECT count(*) FROM signer.sign_results r JOIN ingress.batches b ON b.batch_id = r.batch_id
            WHERE b.state <> 'accepted' AND r.signature IS NOT NULL
            """));
        Check(await rig.CountAsync("6. the ingress killed and restarted during a batch submission", Settle), allowNoAnswer: true);
    }

    [Fact]
    public async Task A_poison_message_ends_in_the_error_queue_with_its_reason_and_blocks_nothing()
    {
        await using var rig = await FaultRig.StartAsync();
        var uri = new Uri(rig.Pipeline.RabbitMq);
        var user = uri.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(uri, h =>
            {
                h.Username(Uri.UnescapeDataString(user[0]));
                h.Password(Uri.UnescapeDataString(user[1]));
            });
            cfg.UseBrokerIdentity(Uri.UnescapeDataString(user[0]), ownNames: false); // the services' own user: past the sender check, into the store
        });
        await bus.StartAsync();
        try
        {
            // A request that can never be stored: a tenant id longer than any tenant id can be.
            var poison = new SignRequested
            {
                RequestId = Guid.NewGuid(), TenantId = new string('p', 200), Kid = Pipeline.Kid, Format = "raw",
                TbsDigest = System.Security.Cryptography.SHA256.HashData("poison"u8), PayloadSize = 6,
                Deadline = DateTimeOffset.UtcNow.AddMinutes(1), ReceivedAt = DateTimeOffset.UtcNow,
            };
            await (await bus.GetSendEndpoint(SignQueues.SignRequestedAddress)).Send(poison);

            await rig.RunAsync(FaultRig.Outage(5, 10), 50, () => Task.CompletedTask);
            var errors = await Eventually.GetAsync(() => TestServers.PeekQueueAsync(rig.Pipeline.RabbitMq, $"{SignQueues.SignRequested}_error"),
                m => m.Count == 1, TimeSpan.FromSeconds(30), "the poison message in the error queue");
            var (headers, _) = errors[0];
            Assert.Contains(headers, h => h.Key == "MT-Fault-Message" && h.Value.Length > 0);
            output.WriteLine($"error queue: {headers.GetValueOrDefault("MT-Fault-ExceptionType")}: {headers.GetValueOrDefault("MT-Fault-Message")}");
            Check(await rig.CountAsync("7. a poison message among the traffic", Settle));
            Assert.Contains(rig.SyncOutcomes, o => o.Status == 200);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private void Check(FaultReport report, bool allowNoAnswer = false, bool allowExtraKms = false) =>
        FaultRig.Check(report, output, allowNoAnswer, allowExtraKms);
}

/// <summary>The fault scenarios run one at a time: each loads the machine on purpose.</summary>
[CollectionDefinition(nameof(FaultSuiteTests), DisableParallelization = true)]
public sealed class FaultSuiteGroup;
