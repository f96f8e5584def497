using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The outbox of outcome events: a result recorded while its event could not be published (the broker went away
/// between the two) still reaches the audit store, whole and once; a normal request leaves nothing behind.
/// </summary>
public sealed class OutcomeOutboxTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
    }

    [Fact]
    public async Task A_result_recorded_without_its_event_published_reaches_the_audit_store_from_the_outbox()
    {
        // What a worker does up to the moment the broker goes away: claim, sign, record. It never publishes.
        var request = new SignRequested
        {
            RequestId = Guid.NewGuid(), TenantId = "acme", Kid = Pipeline.Kid, Format = "raw", TbsDigest = SHA256.HashData("outbox"u8),
            PayloadSize = 6, Deadline = DateTimeOffset.UtcNow.AddSeconds(30), ReceivedAt = DateTimeOffset.UtcNow,
        };
        var tbsHash = Convert.ToHexStringLower(request.TbsDigest);
        var log = new EdgeSignerLog
        {
            RequestId = request.RequestId, TenantId = "acme", Timestamp = DateTimeOffset.UtcNow, Region = "eu-west-1", TbsHash = tbsHash,
            KmsKeyId = Pipeline.EdgeKmsKeyId, KmsRegion = "eu-west-1", SigningMode = SigningModes.Edge, Kid = Pipeline.Kid, Format = "raw",
            PayloadSize = 6, TKmsMs = 12.5, TTotalMs = 31.25, Success = true,
        };
        using (var scope = _pipeline.Workers[0].Services.CreateScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<SignResultStore>();
            Assert.True(await store.ClaimAsync(request, tbsHash, "test-worker", CancellationToken.None));
            Assert.True(await store.CompleteAsync(new SignResultStore.Outcome(log, new byte[64]), CancellationToken.None));
        }

        Assert.Equal(1L, await Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM signer.outcome_outbox WHERE request_id = @id", ("id", request.RequestId)));

        // The outbox publishes it after OutcomeOutbox.RepublishAfter, and the audit store writes it with every figure.
        var rows = await Eventually.GetAsync(() => AuditRows.ForRequestAsync(_pipeline.Postgres, request.RequestId), r => r.Count > 0,
            OutcomeOutbox.RepublishAfter + TimeSpan.FromSeconds(30), "the outcome's audit row");
        var row = Assert.Single(rows);
        Assert.Equal("edge_sign_success", row.EventType);
        Assert.Equal(tbsHash, row.TbsHash);
        Assert.Equal(Pipeline.EdgeKmsKeyId, row.KmsKeyId);
        Assert.Equal(12.5, row.TKmsMs);
        Assert.Equal(31.25, row.TTotalMs);
        Assert.Equal(EventIds.Outcome(request.RequestId), await Sql.ScalarAsync<Guid>(_pipeline.Postgres,
            "SELECT event_id FROM audit.sign_events WHERE request_id = @id", ("id", request.RequestId)));
        await Eventually.GetAsync(() => Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM signer.outcome_outbox WHERE request_id = @id",
            ("id", request.RequestId)), n => n == 0, TimeSpan.FromSeconds(10), "the outbox row deleted once published");
    }

    [Fact]
    public async Task A_signed_request_leaves_one_audit_row_and_an_empty_outbox()
    {
        using var client = await _pipeline.CreateTenantClientAsync("acme");
        using var response = await client.PostAsJsonAsync("/v1/sign", new { payload = "aGVsbG8=" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = Guid.Parse((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!);

        await Eventually.GetAsync(() => Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM signer.outcome_outbox"), n => n == 0,
            TimeSpan.FromSeconds(5), "the outbox emptied by the worker's own confirmed publish");
        var rows = await Eventually.GetAsync(() => AuditRows.ForRequestAsync(_pipeline.Postgres, requestId),
            r => r.Any(x => x.EventType == "edge_sign_success"), TimeSpan.FromSeconds(10), "the success row");
        Assert.Single(rows, r => r.EventType == "edge_sign_success");
    }

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();
}
