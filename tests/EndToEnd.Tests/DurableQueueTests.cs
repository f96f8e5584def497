using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>What happens to requests when no worker is running.</summary>
public sealed class DurableQueueTests
{
    [Fact]
    public async Task A_request_sent_before_any_worker_started_waits_in_the_queue_and_is_signed_when_one_starts()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:Api:SyncTimeoutMs"] = "60000";
        await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");

        var pending = acme.PostAsJsonAsync("/v1/sign", new { payload = "d2FpdGluZw==" });
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(pending.IsCompleted, "no worker runs yet, so no answer can have come");

        await pipeline.StartWorkerAsync();
        var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var key = (await Jwks.FetchAsync(pipeline.Ingress!.Http))[result.GetProperty("kid").GetString()!];
        Assert.True(key.VerifyData("waiting"u8.ToArray(), Convert.FromBase64String(result.GetProperty("signature_der").GetString()!),
            HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task A_batch_submitted_while_no_worker_runs_is_accepted_and_completes_once_one_starts()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        // The workers ran once (so the ingress knows, and has stored, the key to build the batch for), then all stopped:
        // a new ingress, started while none runs, still accepts the batch.
        await pipeline.StartWorkerAsync();
        await pipeline.StartIngressAsync();
        await Eventually.GetAsync(() => Jwks.FetchAsync(pipeline.Ingress!.Http), k => k.Count == 1, what: "the worker's key published");
        await pipeline.Workers[0].DisposeAsync();
        await pipeline.Ingress!.DisposeAsync();
        pipeline.Workers.Clear();
        pipeline.Ingresses.Clear();
        await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");

        var submitted = await acme.PostAsJsonAsync("/v1/batches", new { items = Enumerable.Range(0, 20).Select(i => new { id = $"w{i}", payload = "d2FpdA==" }) });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString();
        Assert.Equal("pending", (await acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}")).GetProperty("status").GetString());

        await pipeline.StartWorkerAsync();
        var done = await Eventually.GetAsync(() => acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}"),
            s => s.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the batch to complete");
        Assert.Equal(20, done.GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task With_no_worker_a_synchronous_call_ends_in_504_signing_timeout_at_its_deadline()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:Api:SyncTimeoutMs"] = "1500";
        await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");

        var response = await acme.PostAsJsonAsync("/v1/sign", new { payload = "dGltZW91dA==" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("signing_timeout", problem.GetProperty("error_type").GetString());
        Assert.True(problem.TryGetProperty("request_id", out _));
    }
}
