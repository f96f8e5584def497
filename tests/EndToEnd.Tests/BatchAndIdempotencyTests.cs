using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Text;
using System.Text.Json;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>One signature per request under redelivery, Idempotency-Key replays, and batches over HTTP and the bus.</summary>
public sealed class BatchAndIdempotencyTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;
    private HttpClient _acme = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
        _acme = await _pipeline.CreateTenantClientAsync("acme");
    }

    [Fact]
    public async Task The_same_request_delivered_twice_is_signed_once_and_answered_identically()
    {
        var client = _pipeline.Ingress!.Services.GetRequiredService<IClientFactory>().CreateRequestClient<SignRequested>(SignQueues.SignRequestedAddress);
        var request = new SignRequested
        {
            RequestId = Guid.NewGuid(), TenantId = "acme", Kid = Pipeline.Kid, Format = "raw", TbsDigest = SHA256.HashData("twice"u8),
            PayloadSize = 5, Deadline = DateTimeOffset.UtcNow.AddSeconds(30), ReceivedAt = DateTimeOffset.UtcNow,
        };
        var before = _pipeline.Kms.SignCalls;

        var first = await client.GetResponse<SignCompleted>(request);
        var second = await client.GetResponse<SignCompleted>(request);

        Assert.Equal(1, _pipeline.Kms.SignCalls - before);
        Assert.Equal(first.Message.Signature, second.Message.Signature);
        Assert.Equal(first.Message.SignatureDer, second.Message.SignatureDer);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM signer.sign_results WHERE request_id = @id", ("id", request.RequestId)));
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_result_byte_for_byte_and_refuses_another_request()
    {
        var key = "order-" + Guid.NewGuid().ToString("N");
        var before = _pipeline.Kms.SignCalls;

        var first = await SignWithKeyAsync(key, "Zmlyc3Q=", "jws");
        var replay = await SignWithKeyAsync(key, "Zmlyc3Q=", "jws");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await replay.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _pipeline.Kms.SignCalls - before);

        var conflict = await SignWithKeyAsync(key, "b3RoZXI=", "jws");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("idempotency_conflict", (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_type").GetString());
        var otherFormat = await SignWithKeyAsync(key, "Zmlyc3Q=", "cose");
        Assert.Equal(HttpStatusCode.Conflict, otherFormat.StatusCode);

        // Keys are per tenant: another tenant may use the same key for its own request.
        using var globex = await _pipeline.CreateTenantClientAsync("globex");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "b3RoZXI=" }) };
        request.Headers.Add("Idempotency-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await globex.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task A_batch_is_accepted_whole_completes_and_every_result_verifies()
    {
        var payloads = Enumerable.Range(0, 120).Select(i => Encoding.UTF8.GetBytes($"artifact-{i}")).ToList();
        var formats = new[] { "raw", "jws", "cose" };
        var items = payloads.Select((p, i) => new { id = $"item-{i}", payload = Convert.ToBase64String(p), format = formats[i % 3] }).ToList();

        var submitted = await _acme.PostAsJsonAsync("/v1/batches", new { items });

        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var accepted = await submitted.Content.ReadFromJsonAsync<JsonElement>();
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        Assert.Equal(120, accepted.GetProperty("item_count").GetInt32());
        Assert.Equal($"/v1/batches/{batchId}", submitted.Headers.Location!.OriginalString);

        var status = await Eventually.GetAsync(() => _acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}"),
            s => s.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the batch to complete");
        Assert.Equal((120, 0), (status.GetProperty("succeeded").GetInt32(), status.GetProperty("failed").GetInt32()));
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("completed_at").ValueKind);

        var key = (await Jwks.FetchAsync(_pipeline.Ingress!.Http))[Pipeline.Kid];
        var results = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await _acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}/results?limit=50" + (cursor is null ? string.Empty : $"&after={cursor}"));
            results.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (cursor is not null);

        Assert.Equal(items.Select(i => i.id), results.Select(r => r.GetProperty("id").GetString()));
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            Assert.Equal("succeeded", result.GetProperty("status").GetString());
            switch (formats[i % 3])
            {
                case "raw":
                    Assert.True(key.VerifyData(payloads[i], Convert.FromBase64String(result.GetProperty("signature_der").GetString()!),
                        HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
                    break;
                case "jws":
                    var jws = result.GetProperty("jws").GetString()!;
                    Assert.Contains("..", jws, StringComparison.Ordinal); // detached: the client holds the payload
                    Assert.Equal(payloads[i], Jose.JWT.DecodeBytes(jws, key, payload: payloads[i]));
                    break;
                default:
                    var cose = CoseMessage.DecodeSign1(Convert.FromBase64String(result.GetProperty("cose").GetString()!));
                    Assert.Null(cose.Content);
                    Assert.True(cose.VerifyDetached(key, payloads[i]));
                    break;
            }
        }

        Assert.Equal(120L, await ScalarAsync("SELECT count(DISTINCT request_id) FROM signer.sign_results WHERE batch_id = @b", ("b", Guid.Parse(batchId))));
    }

    [Fact]
    public async Task A_batch_with_one_bad_item_is_refused_naming_it_and_nothing_is_queued()
    {
        var before = _pipeline.Kms.SignCalls;
        var items = Enumerable.Range(0, 10).Select(i => new { id = $"i{i}", payload = i == 7 ? "not base64!" : "b2s=", format = "raw" });

        var response = await _acme.PostAsJsonAsync("/v1/batches", new { items });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_request", problem.GetProperty("error_type").GetString());
        Assert.Contains("items[7] (id \"i7\")", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM ingress.batches"));
        await Task.Delay(500);
        Assert.Equal(before, _pipeline.Kms.SignCalls);

        var duplicate = await _acme.PostAsJsonAsync("/v1/batches", new { items = new[] { new { id = "a", payload = "b2s=" }, new { id = "a", payload = "b2s=" } } });
        Assert.Contains("used twice", (await duplicate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _acme.PostAsJsonAsync("/v1/batches", new { items = Array.Empty<object>() })).StatusCode);
    }

    [Fact]
    public async Task Another_tenants_batch_is_not_found()
    {
        var submitted = await _acme.PostAsJsonAsync("/v1/batches", new { items = new[] { new { id = "mine", payload = "bWluZQ==" } } });
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString();
        using var globex = await _pipeline.CreateTenantClientAsync("globex");

        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/v1/batches/{batchId}")).StatusCode);
        var results = await globex.GetAsync($"/v1/batches/{batchId}/results");
        Assert.Equal(HttpStatusCode.NotFound, results.StatusCode);
        Assert.DoesNotContain("acme", await results.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/v1/batches/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Batch_items_sent_straight_to_the_bus_are_signed_and_kept_with_their_batch()
    {
        var batchId = Guid.NewGuid();
        var send = await _pipeline.Ingress!.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(SignQueues.BatchItemsAddress);
        await send.SendBatch(Enumerable.Range(0, 5).Select(i => new SignRequested
        {
            RequestId = Guid.NewGuid(), TenantId = "acme", Kid = Pipeline.Kid, Format = "raw", TbsDigest = SHA256.HashData(BitConverter.GetBytes(i)),
            PayloadSize = 4, Deadline = DateTimeOffset.UtcNow.AddMinutes(5), ReceivedAt = DateTimeOffset.UtcNow, BatchId = batchId, ItemId = $"bus-{i}", ItemIndex = i,
        }));

        await Eventually.GetAsync(() => ScalarAsync("SELECT count(*) FROM signer.sign_results WHERE batch_id = @b AND signature IS NOT NULL", ("b", batchId)),
            n => n == 5, TimeSpan.FromSeconds(30), "the bus batch's results");
    }

    [Fact]
    public async Task Results_are_kept_seven_days_then_their_partitions_are_dropped()
    {
        var signed = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "a2VlcA==" });
        var requestId = (await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetGuid();
        var today = $"sign_results_p{DateTime.UtcNow:yyyyMMdd}";
        var partitions = await PartitionsAsync();
        Assert.Contains(today, partitions);
        Assert.Contains($"sign_results_p{DateTime.UtcNow.AddDays(7):yyyyMMdd}", partitions); // made ahead of time

        await using var scope = _pipeline.Workers[0].Services.CreateAsyncScope();
        var job = scope.ServiceProvider.GetRequiredService<EdgeSigner.SignWorker.Results.ResultRetentionJob>();
        var db = scope.ServiceProvider.GetRequiredService<EdgeSigner.SignWorker.Data.SignerDbContext>();

        var sixDaysOn = await job.RunOnceAsync(db, DateTimeOffset.UtcNow.AddDays(6), CancellationToken.None);
        Assert.DoesNotContain(today, sixDaysOn);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM signer.sign_results WHERE request_id = @id", ("id", requestId)));

        var eightDaysOn = await job.RunOnceAsync(db, DateTimeOffset.UtcNow.AddDays(8), CancellationToken.None);
        Assert.Contains(today, eightDaysOn);
        Assert.DoesNotContain(today, await PartitionsAsync());
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM signer.sign_results WHERE request_id = @id", ("id", requestId)));
    }

    private async Task<List<string>> PartitionsAsync() =>
        (await Sql.QueryAsync(_pipeline.Postgres, "SELECT partition_name FROM signer.partitions('sign_results')")).Select(r => (string)r[0]!).ToList();

    private async Task<HttpResponseMessage> SignWithKeyAsync(string key, string payload, string format)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload, format }) };
        request.Headers.Add("Idempotency-Key", key);
        return await _acme.SendAsync(request);
    }

    private Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters) =>
        Sql.ScalarAsync<long>(_pipeline.Postgres, sql, parameters);

    public async Task DisposeAsync()
    {
        _acme.Dispose();
        await _pipeline.DisposeAsync();
    }
}
