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
/// its tenant through the admin API, the AMQP <c>user_id</c> set on what it sends (RabbitMQ checks it against the
/// connection's user), <see cref="SignRequested"/> sent to <c>queue:sign-requested</c> with MassTransit's request
/// client. A user that names another tenant, a user mapped to none, a message without a user id, a disabled tenant and
/// a tenant over its rate get clear rejections, audit rows, and no KMS call.
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
            var response = await SignAsync(acme, "acme", tbs);
            Assert.True(response.Is(out Response<SignCompleted>? completed), $"{format}: {Describe(response)}");
            Assert.Equal(("acme", Pipeline.Kid, tbs.DigestHex), (completed.Message.TenantId, completed.Message.Kid, completed.Message.TbsHash));
            Assert.True(key.VerifyData(tbs.Bytes, completed.Message.Signature, HashAlgorithmName.SHA256), $"{format}: the signature does not verify");
            if (format == SignatureFormats.Jws)
            {
                Assert.Equal(Payload, Jose.JWT.DecodeBytes(tbs.Assemble(completed.Message.Signature)!, key));
            }
        }

        var kmsCallsBefore = KmsCalls();
        var refused = new List<(string What, Guid RequestId, string Actor, string Tenant)>();
        var forged = await SignAsync(acme, "globex", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("acme's user naming globex", Rejected(forged, ErrorTypes.SenderNotAllowed), $"broker:{acmeUser.Name}", "globex"));

        var strangerBus = await TenantBusAsync(stranger, setUserId: true);
        var unmapped = await SignAsync(strangerBus, "acme", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("an unmapped user", Rejected(unmapped, ErrorTypes.SenderNotAllowed), $"broker:{stranger.Name}", "acme"));

        var unproven = await TenantBusAsync(acmeUser, setUserId: false);
        var anonymous = await SignAsync(unproven, "acme", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        refused.Add(("no user_id", Rejected(anonymous, ErrorTypes.SenderNotAllowed), "anonymous", "acme"));

        var noSuchTenant = await SignAsync(acme, "no-such-tenant", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
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
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SignAsync(bus, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload))));
        var elapsed = clock.Elapsed;
        var limited = answers.Count(a => a.Is(out Response<SignRejected>? r) && r.Message.ErrorType == ErrorTypes.RateLimited);
        var completed = answers.Count(a => a.Is(out Response<SignCompleted>? _));
        Assert.Equal(answers.Length, limited + completed);
        Assert.True(completed <= (int)elapsed.TotalSeconds, $"{completed} bus requests signed {elapsed.TotalSeconds:F1} s after the HTTP call took the only token");
        Assert.True(limited >= 1, $"no bus request was rate limited ({completed} signed in {elapsed.TotalSeconds:F1} s)");
        Assert.Equal(kmsCallsBefore + completed, KmsCalls());

        (await _admin.PostAsync("/admin/tenants/initech/disable", null)).EnsureSuccessStatusCode();
        var disabled = await SignAsync(bus, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload));
        var requestId = Rejected(disabled, ErrorTypes.TenantDisabled);
        var failed = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT error_type FROM audit.sign_events WHERE request_id = @id AND event_type = 'edge_sign_failure'", ("id", requestId)),
            rows => rows.Count == 1, TimeSpan.FromSeconds(20), "the disabled tenant's failure event");
        Assert.Equal(ErrorTypes.TenantDisabled, (string)failed[0][0]!);

        // Unmapping the user ends its right to sign as the tenant, whatever the tenant's state.
        (await _admin.PostAsync("/admin/tenants/initech/enable", null)).EnsureSuccessStatusCode();
        (await _admin.DeleteAsync($"/admin/tenants/initech/broker-users/{user.Name}")).EnsureSuccessStatusCode();
        Rejected(await SignAsync(bus, "initech", ToBeSigned.Build(SignatureFormats.Raw, Pipeline.Kid, Payload)), ErrorTypes.SenderNotAllowed);
    }

    [Fact]
    public async Task The_client_sample_of_the_docs_is_the_compiled_one_signs_and_its_JWS_verifies_and_a_refusal_is_an_exception()
    {
        var page = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "bus-clients.md"));
        Assert.Contains("```csharp\n" + BusClientSample.Text() + "\n```", page.ReplaceLineEndings("\n"), StringComparison.Ordinal);

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
    }

    private sealed record BrokerUser(string Name, string AmqpUri);

    /// <summary>
    /// A RabbitMQ user for a tenant's service, with what docs/bus-clients.md grants: declare and read its own
    /// (MassTransit's temporary) queues and exchanges, write to the sign queue, nothing else.
    /// </summary>
    private async Task<BrokerUser> BrokerUserAsync(string name)
    {
        var user = $"{name}-{_suffix}";
        _brokerUsers.Add(user);
        var uri = await TestServers.CreateRabbitUserAsync(_pipeline.RabbitMq, user, "secret-" + _suffix,
            configure: ".*", write: ".*", read: ".*");
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
        });
        await bus.StartAsync();
        _buses.Add(bus);
        return bus;
    }

    private static async Task<Response<SignCompleted, SignRejected>> SignAsync(IBus bus, string tenantId, ToBeSigned tbs)
    {
        var client = bus.CreateRequestClient<SignRequested>(SignQueues.SignRequestedAddress, RequestTimeout.After(s: 20));
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
