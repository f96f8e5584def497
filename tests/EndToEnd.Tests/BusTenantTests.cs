using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using EdgeSigner.Client;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Testing;
using MassTransit;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// A tenant's own service signing on the bus, as docs/bus-clients.md tells it to: its own RabbitMQ user, mapped to
/// its tenant through the admin API, with permissions on its own prefix only and two exchanges an operator bound for it;
/// the AMQP <c>user_id</c> set on what it sends (RabbitMQ checks it against the connection's user),
/// <see cref="SignRequested"/> sent to its sign exchange with MassTransit's request client. A user that names another
/// tenant, a user mapped to none, a message without a user id, a disabled tenant and a tenant over its rate get clear
/// rejections, audit rows, and no KMS call; a batch of 1,000 survives the client's restart.
/// </summary>
public sealed class BusTenantTests : IAsyncLifetime
{
    private static readonly byte[] Payload = "signed on the bus"u8.ToArray();

    private readonly string _suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private readonly List<string> _brokerUsers = [];
    private readonly List<IBusControl> _buses = [];
    private Pipeline _pipeline = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
        _admin = _pipeline.AdminClient();
    }

    public async Task DisposeAsync()
    {
        foreach (var bus in _buses)
        {
            await bus.StopAsync();
        }

        foreach (var user in _brokerUsers)
        {
            await TestServers.DeleteRabbitUserAsync(user);
        }

        _admin.Dispose();
        await _pipeline.DisposeAsync();
    }

    [Fact]
    public async Task A_mapped_broker_user_signs_in_every_format_and_forged_or_unproven_senders_are_refused_audited_and_cost_no_KMS_call()
    {
        await Pipeline.CreateTenantAsync(_admin, "acme");
        await Pipeline.CreateTenantAsync(_admin, "globex");
        var acmeUser = await BrokerUserAsync("acme-svc");
        var stranger = await BrokerUserAsync("stranger");
        await MapAsync("acme", acmeUser.Name);

        var acme = await TenantBusAsync(acmeUser, setUserId: true);
        var key = (await Jwks.FetchAsync(_pipeline.Ingress!.Http))[Pipeline.Kid];
        foreach (var format in new[] { SignatureFormats.Raw, SignatureFormats.Jws, SignatureFormats.Cose })
        {
            var tbs = ToBeSigned.Build(format, Pipeline.Kid, Payload);
            var response = await SignAsync(acme, acmeUser.Name, "acme", tbs);
            Assert.True(response.Is(out Response<SignCompleted>? completed), $"{format}: {Describe(response)}");
            Assert.Equal(("acme", Pipeline.Kid, tbs.DigestHex), (completed.Message.TenantId, completed.Message.Kid, completed.Message.TbsHash));
            Assert.True(key.VerifyData(tbs.Bytes, completed.Message.Signature, HashAlgorithmName.SHA256), $"{format}: the signature does not verify");
            if (format == SignatureFormats.Jws)
            {
                Assert.Equal(Payload, Jose.JWT.DecodeBytes(tbs.Assemble(completed.Message.Signature)!, key));
            }
        }

        // The user's permissions are its own prefix: it may not read (or purge, or delete) the sign queue.
        var denied = await Assert.ThrowsAnyAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(() =>
            TakeOneAsync(acmeUser, SignQueues.SignRequestedAddress.AbsolutePath));
        Assert.Contains("ACCESS_REFUSED", denied.Message, StringComparison.Ordinal);

        var kmsCallsBefore = KmsCalls();
        var refused = new List<(string What, Guid RequestId, string Actor, string Tenant)>();
        var forged = await SignAsync(acme, acmeUser.Name, "globex", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("acme's user naming globex", Rejected(forged, ErrorTypes.SenderNotAllowed), $"broker:{acmeUser.Name}", "globex"));

        var strangerBus = await TenantBusAsync(stranger, setUserId: true);
        var unmapped = await SignAsync(strangerBus, stranger.Name, "acme", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("an unmapped user", Rejected(unmapped, ErrorTypes.SenderNotAllowed), $"broker:{stranger.Name}", "acme"));

        var unproven = await TenantBusAsync(acmeUser, setUserId: false);
        var anonymous = await SignAsync(unproven, acmeUser.Name, "acme", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("no user_id", Rejected(anonymous, ErrorTypes.SenderNotAllowed), "anonymous", "acme"));

        var noSuchTenant = await SignAsync(acme, acmeUser.Name, "no-such-tenant", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("a tenant that does not exist", Rejected(noSuchTenant, ErrorTypes.SenderNotAllowed), $"broker:{acmeUser.Name}", "no-such-tenant"));

        Assert.Equal(kmsCallsBefore, KmsCalls());

        // Each refusal is a security event in the audit trail naming the broker user, and a failed sign event.
        var security = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT actor, target, outcome, status_code FROM audit.audit_trail WHERE action = 'security.bus_sender_refused' ORDER BY seq"),
            rows => rows.Count >= refused.Count, TimeSpan.FromSeconds(20), "the security events");
        Assert.Equal(refused.Select(r => (r.Actor, r.Tenant, "denied", 403)),
            security.Select(r => ((string)r[0]!, (string)r[1]!, (string)r[2]!, (int)r[3]!)));
        foreach (var (what, requestId, _, tenant) in refused)
        {
            var failed = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                    "SELECT tenant_id, error_type FROM audit.sign_events WHERE request_id = @id AND event_type = 'edge_sign_failure'", ("id", requestId)),
                rows => rows.Count == 1, TimeSpan.FromSeconds(20), $"the failure event of {what}");
            Assert.Equal((tenant, ErrorTypes.SenderNotAllowed), ((string)failed[0][0]!, (string)failed[0][1]!));
        }
    }

    [Fact]
    public async Task A_disabled_tenant_and_a_tenant_over_the_rate_it_shares_with_HTTP_are_refused_on_the_bus()
    {
        var apiKey = await Pipeline.CreateTenantAsync(_admin, "initech", ratePerSecond: 1, burst: 1);
        var user = await BrokerUserAsync("initech-svc");
        await MapAsync("initech", user.Name);
        var bus = await TenantBusAsync(user, setUserId: true);
        using var http = Pipeline.TenantClient(apiKey, _pipeline.Ingress!);

        // The HTTP call takes the bucket's one token; the bus requests right after draw on the same bucket.
        var clock = Stopwatch.StartNew();
        var signed = await http.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(Payload), format = "raw" });
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        var kmsCallsBefore = KmsCalls();
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SignAsync(bus, user.Name, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload))));
        var elapsed = clock.Elapsed;
        var limited = answers.Count(a => a.Is(out Response<SignRejected>? r) && r.Message.ErrorType == ErrorTypes.RateLimited);
        var completed = answers.Count(a => a.Is(out Response<SignCompleted>? _));
        Assert.Equal(answers.Length, limited + completed);
        Assert.True(completed <= (int)elapsed.TotalSeconds, $"{completed} bus requests signed {elapsed.TotalSeconds:F1} s after the HTTP call took the only token");
        Assert.True(limited >= 1, $"no bus request was rate limited ({completed} signed in {elapsed.TotalSeconds:F1} s)");
        Assert.Equal(kmsCallsBefore + completed, KmsCalls());

        (await _admin.PostAsync("/admin/tenants/initech/disable", null)).EnsureSuccessStatusCode();
        var disabled = await SignAsync(bus, user.Name, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        var requestId = Rejected(disabled, ErrorTypes.TenantDisabled);
        var failed = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT error_type FROM audit.sign_events WHERE request_id = @id AND event_type = 'edge_sign_failure'", ("id", requestId)),
            rows => rows.Count == 1, TimeSpan.FromSeconds(20), "the disabled tenant's failure event");
        Assert.Equal(ErrorTypes.TenantDisabled, (string)failed[0][0]!);

        // Unmapping the user ends its right to sign as the tenant, whatever the tenant's state.
        (await _admin.PostAsync("/admin/tenants/initech/enable", null)).EnsureSuccessStatusCode();
        (await _admin.DeleteAsync($"/admin/tenants/initech/broker-users/{user.Name}")).EnsureSuccessStatusCode();
        Rejected(await SignAsync(bus, user.Name, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload)), ErrorTypes.SenderNotAllowed);
    }

    [Fact]
    public async Task The_client_sample_of_the_docs_is_the_compiled_one_signs_and_its_JWS_verifies_and_a_refusal_is_an_exception()
    {
        var page = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "bus-clients.md"));
        Assert.Contains("```csharp\n" + BusClientSample.Text() + "\n```", page.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("```csharp\n" + BusClientSample.Text("batch-sample") + "\n```", page.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        await Pipeline.CreateTenantAsync(_admin, "acme");
        var user = await BrokerUserAsync("acme-client");
        await MapAsync("acme", user.Name);
        var ingress = new Uri(_pipeline.Ingress!.Url);
        var rabbit = new UriBuilder(_pipeline.RabbitMq) { UserName = string.Empty, Password = string.Empty }.Uri;

        var jws = await BusClientSample.SignAsync(rabbit, user.Name, "secret-" + _suffix, ingress, "acme", Pipeline.Kid, Payload);
        var key = (await Jwks.FetchAsync(_pipeline.Ingress.Http))[Pipeline.Kid];
        Assert.Equal(Payload, Jose.JWT.DecodeBytes(jws, key));

        var refused = await Assert.ThrowsAsync<EdgeSigner.Client.EdgeSignerException>(() =>
            BusClientSample.SignAsync(rabbit, user.Name, "secret-" + _suffix, ingress, "globex", Pipeline.Kid, Payload));
        Assert.Equal(ErrorTypes.SenderNotAllowed, refused.ErrorType);

        var payloads = Enumerable.Range(0, 5).ToDictionary(i => $"doc-{i}", i => System.Text.Encoding.UTF8.GetBytes($"document {i}"));
        var (completed, signed) = await BusClientSample.SignBatchAsync(rabbit, user.Name, "secret-" + _suffix, ingress, "acme", Pipeline.Kid, payloads);
        Assert.Equal((5, 5, 0), (completed.ItemCount, completed.Succeeded, completed.Failed));
        Assert.Equal(payloads.Keys.Order(), signed.Keys.Order());
        foreach (var (id, payload) in payloads)
        {
            Assert.Equal(payload, Jose.JWT.DecodeBytes(signed[id], key));
        }

        var refusedBatch = await Assert.ThrowsAsync<EdgeSigner.Client.EdgeSignerException>(() =>
            BusClientSample.SignBatchAsync(rabbit, user.Name, "secret-" + _suffix, ingress, "globex", Pipeline.Kid, payloads));
        Assert.Equal(ErrorTypes.SenderNotAllowed, refusedBatch.ErrorType);
    }

    [Fact]
    public async Task A_bus_batch_of_1000_items_survives_the_client_restart_midway_with_every_result_delivered_once_and_verified()
    {
        await Pipeline.CreateTenantAsync(_admin, "acme");
        await Pipeline.CreateTenantAsync(_admin, "globex");
        var user = await BrokerUserAsync("acme-batch");
        await MapAsync("acme", user.Name);
        using var http = new HttpClient { BaseAddress = new Uri(_pipeline.Ingress!.Url) };
        using var keys = new PublishedKeys(http);
        var formats = new[] { SignatureFormats.Raw, SignatureFormats.Jws, SignatureFormats.Cose };
        var items = Enumerable.Range(0, 1000)
            .Select(i => new BatchItem($"item-{i}", System.Text.Encoding.UTF8.GetBytes($"payload {i}"), formats[i % 3], Detached: i % 2 == 1)).ToList();
        var received = new ConcurrentQueue<BatchItemEnded>();
        var completed = new ConcurrentQueue<BatchCompleted>();

        // The service submits, takes some of the results, and goes down while the rest are delivered.
        var first = await TenantBusAsync(user, setUserId: true);
        await ResultsAsync(first, user, received, completed);
        var client = new EdgeSignerClient(first, keys, user.Name, "acme", Pipeline.Kid);
        var kmsCallsBefore = KmsCalls();
        var accepted = await client.SubmitBatchAsync(items, timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(items.Count, accepted.ItemCount);
        await Eventually.GetAsync(() => Task.FromResult(received.Count), n => n >= 100, TimeSpan.FromMinutes(2), "the first results");
        await first.StopAsync();
        _buses.Remove(first);
        var beforeRestart = received.Count;
        await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT delivered, completion_published FROM ingress.batches WHERE batch_id = @id", ("id", accepted.BatchId)),
            rows => rows.Count == 1 && (int)rows[0][0]! == items.Count && (bool)rows[0][1]!, TimeSpan.FromMinutes(3), "every result sent while the service is down");
        Assert.True(beforeRestart < items.Count, $"all {beforeRestart} results arrived before the service stopped: the restart proved nothing");

        // Back up, the service finds the rest waiting on its queue; stopped again, its queue is empty.
        var second = await TenantBusAsync(user, setUserId: true);
        await ResultsAsync(second, user, received, completed);
        await Eventually.GetAsync(() => Task.FromResult(completed.Count), n => n >= 1, TimeSpan.FromMinutes(2), "BatchCompleted");
        await Eventually.GetAsync(() => Task.FromResult(received.Count), n => n >= items.Count, TimeSpan.FromMinutes(1), "every result");
        await second.StopAsync();
        _buses.Remove(second);
        Assert.Equal(0u, await ReadyMessagesAsync(user, TenantBusNames.ResultsQueue(user.Name)));

        Assert.Equal(Enumerable.Range(0, items.Count), received.Select(r => r.ItemIndex).Order());
        var done = Assert.Single(completed);
        Assert.Equal((accepted.BatchId, "acme", items.Count, items.Count, 0), (done.BatchId, done.TenantId, done.ItemCount, done.Succeeded, done.Failed));
        Assert.Equal(kmsCallsBefore + items.Count, KmsCalls());
        var key = (await Jwks.FetchAsync(_pipeline.Ingress.Http))[Pipeline.Kid];
        foreach (var result in received)
        {
            var item = items[result.ItemIndex];
            Assert.Equal((accepted.BatchId, item.Id), (result.BatchId, result.ItemId));
            var signed = await client.VerifyAsync(result, item.Payload, item.Detached);
            var tbs = ToBeSigned.Build(item.Format, Pipeline.Kid, item.Payload.Span, item.Detached);
            Assert.True(key.VerifyData(tbs.Bytes, result.Signature, HashAlgorithmName.SHA256), $"{item.Id}: the signature does not verify against the JWKS");
            if (item.Format == SignatureFormats.Jws && !item.Detached)
            {
                Assert.Equal(item.Payload.ToArray(), Jose.JWT.DecodeBytes(signed.Result, key));
            }
        }

        // A result does not verify against another payload; a batch naming another tenant, or results queue not the user's own, is refused.
        var wrong = await Assert.ThrowsAsync<EdgeSignerException>(() => client.VerifyAsync(received.First(), "not the payload"u8.ToArray()));
        Assert.Equal(EdgeSignerException.SignatureInvalid, wrong.ErrorType);
        var third = await TenantBusAsync(user, setUserId: true);
        var asGlobex = new EdgeSignerClient(third, keys, user.Name, "globex", Pipeline.Kid);
        var forged = await Assert.ThrowsAsync<EdgeSignerException>(() => asGlobex.SubmitBatchAsync(items.Take(3).ToList(), timeout: TimeSpan.FromSeconds(30)));
        Assert.Equal(ErrorTypes.SenderNotAllowed, forged.ErrorType);
        var asAcme = new EdgeSignerClient(third, keys, user.Name, "acme", Pipeline.Kid);
        var elsewhere = await Assert.ThrowsAsync<EdgeSignerException>(() =>
            asAcme.SubmitBatchAsync(items.Take(3).ToList(), resultsQueue: "sign-requested", timeout: TimeSpan.FromSeconds(30)));
        Assert.Equal(ErrorTypes.InvalidRequest, elsewhere.ErrorType);
        var audit = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT actor, outcome, status_code FROM audit.audit_trail WHERE action = 'security.bus_sender_refused' AND target = 'globex'"),
            rows => rows.Count == 1, TimeSpan.FromSeconds(20), "the forged batch's security event");
        Assert.Equal(($"broker:{user.Name}", "denied", 403), ((string)audit[0][0]!, (string)audit[0][1]!, (int)audit[0][2]!));
        Assert.Equal(kmsCallsBefore + items.Count, KmsCalls());
    }

    private sealed record BrokerUser(string Name, string AmqpUri);

    private static Task<HostReceiveEndpointHandle> ResultsAsync(IBus bus, BrokerUser user, ConcurrentQueue<BatchItemEnded> received, ConcurrentQueue<BatchCompleted> completed) =>
        bus.ConnectBatchResultsAsync(user.Name, e =>
        {
            e.Handler<BatchItemEnded>(context =>
            {
                received.Enqueue(context.Message);
                return Task.CompletedTask;
            });
            e.Handler<BatchCompleted>(context =>
            {
                completed.Enqueue(context.Message);
                return Task.CompletedTask;
            });
        });

    private static async Task TakeOneAsync(BrokerUser user, string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(user.AmqpUri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicGetAsync(queue, autoAck: false);
    }

    /// <summary>How many messages wait on a queue, asked as the user (which may read its own queues and no other).</summary>
    private static async Task<uint> ReadyMessagesAsync(BrokerUser user, string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(user.AmqpUri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>
    /// A RabbitMQ user for a tenant's service, as docs/bus-clients.md makes one: every permission on the names under
    /// its prefix (<c>user.</c>) and none elsewhere; its sign and batches exchanges declared and bound by the operator.
    /// </summary>
    private async Task<BrokerUser> BrokerUserAsync(string name)
    {
        var user = $"{name}-{_suffix}";
        _brokerUsers.Add(user);
        var own = $"^{System.Text.RegularExpressions.Regex.Escape(TenantBusNames.Prefix(user))}.*";
        var uri = await TestServers.CreateRabbitUserAsync(_pipeline.RabbitMq, user, "secret-" + _suffix, configure: own, write: own, read: own);
        await TestServers.BindRabbitExchangeAsync(_pipeline.RabbitMq, TenantBusNames.SignExchange(user), SignQueues.SignRequestedAddress.AbsolutePath);
        await TestServers.BindRabbitExchangeAsync(_pipeline.RabbitMq, TenantBusNames.BatchesExchange(user), SubmitBusBatch.Queue);
        return new BrokerUser(user, uri);
    }

    private async Task MapAsync(string tenantId, string brokerUser)
    {
        using var mapped = await _admin.PutAsync($"/admin/tenants/{tenantId}/broker-users/{brokerUser}", null);
        Assert.Equal(HttpStatusCode.Created, mapped.StatusCode);
    }

    private async Task<IBusControl> TenantBusAsync(BrokerUser user, bool setUserId)
    {
        var uri = new Uri(user.AmqpUri);
        var credentials = uri.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(uri, h =>
            {
                h.Username(Uri.UnescapeDataString(credentials[0]));
                h.Password(Uri.UnescapeDataString(credentials[1]));
            });
            if (setUserId)
            {
                cfg.UseBrokerIdentity(user.Name);
            }
            else
            {
                cfg.OverrideDefaultBusEndpointQueueName(TenantBusNames.ReplyQueue(user.Name)); // its permissions allow no other
            }
        });
        await bus.StartAsync();
        _buses.Add(bus);
        return bus;
    }

    private static async Task<Response<SignCompleted, SignRejected>> SignAsync(IBus bus, string brokerUser, string tenantId, ToBeSigned tbs)
    {
        var client = bus.CreateRequestClient<SignRequested>(TenantBusNames.SignAddress(brokerUser), RequestTimeout.After(s: 20));
        var now = DateTimeOffset.UtcNow;
        return await client.GetResponse<SignCompleted, SignRejected>(new SignRequested
        {
            RequestId = NewId.NextGuid(),
            TenantId = tenantId,
            Kid = tbs.Kid,
            Format = tbs.Format,
            TbsDigest = tbs.Digest,
            PayloadSize = Payload.Length,
            Deadline = now.AddSeconds(15),
            ReceivedAt = now,
        });
    }

    private static Guid Rejected(Response<SignCompleted, SignRejected> response, string errorType)
    {
        Assert.True(response.Is(out Response<SignRejected>? rejected), $"expected {errorType}: {Describe(response)}");
        Assert.Equal(errorType, rejected.Message.ErrorType);
        return rejected.Message.RequestId;
    }

    private static string Describe(Response<SignCompleted, SignRejected> response) =>
        response.Is(out Response<SignRejected>? rejected) ? $"rejected {rejected.Message.ErrorType}: {rejected.Message.Message}" : "completed";

    private int KmsCalls() =>
        new[] { Pipeline.EdgeKmsKeyId, Pipeline.CentralKmsKeyId, Pipeline.EdgeUsKmsKeyId }.Sum(_pipeline.Kms.SignCallsFor);
}
