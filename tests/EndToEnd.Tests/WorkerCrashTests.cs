using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>A worker process killed with SIGKILL while a batch is in flight, and a new one started.</summary>
public sealed class WorkerCrashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_batch_completes_with_exactly_one_result_per_item_after_its_worker_is_killed()
    {
        const int items = 2000;
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Kms.SignLatency = TimeSpan.FromMilliseconds(5);
        await pipeline.StartAuditSinkAsync();
        await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");

        pipeline.Settings["EdgeSigner:Worker:BatchSize"] = "16";
        pipeline.Settings["EdgeSigner:Worker:BatchesInFlight"] = "2";
        var worker = await ServiceProcess.StartAsync("EdgeSigner.SignWorker", pipeline.Settings);
        var submitted = await acme.PostAsJsonAsync("/v1/batches", new
        {
            items = Enumerable.Range(0, items).Select(i => new { id = $"doc-{i}", payload = Convert.ToBase64String(BitConverter.GetBytes(i)) }),
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString()!;

        // Kill it mid-batch, with items claimed, signed at KMS and not yet recorded.
        await Eventually.GetAsync(() => CountAsync(pipeline, "SELECT count(*) FROM signer.sign_results WHERE batch_id = @b AND completed_at IS NOT NULL", batchId),
            n => n >= 300, TimeSpan.FromSeconds(60), "the first worker to be well into the batch");
        worker.Kill();
        var doneAtKill = await CountAsync(pipeline, "SELECT count(*) FROM signer.sign_results WHERE batch_id = @b AND completed_at IS NOT NULL", batchId);
        await using var replacement = await ServiceProcess.StartAsync("EdgeSigner.SignWorker", pipeline.Settings);

        var status = await Eventually.GetAsync(() => acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}"),
            s => s.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(120), "the batch to complete after the crash");

        Assert.Equal((items, items, 0), (status.GetProperty("item_count").GetInt32(), status.GetProperty("succeeded").GetInt32(), status.GetProperty("failed").GetInt32()));
        Assert.Equal((long)items, await CountAsync(pipeline, "SELECT count(*) FROM signer.sign_results WHERE batch_id = @b", batchId));
        Assert.Equal((long)items, await CountAsync(pipeline, "SELECT count(DISTINCT item_id) FROM signer.sign_results WHERE batch_id = @b", batchId));

        // Every recorded signature verifies; KMS signed a digest twice only for the calls that were in flight when the
        // process died (their results never left it): never more than the items it holds at once (16 × 2).
        var key = (await Jwks.FetchAsync(pipeline.Ingress!.Http))[Pipeline.Kid];
        var signatures = await SignaturesAsync(pipeline, batchId);
        Assert.All(signatures, s => Assert.True(key.VerifyData(BitConverter.GetBytes(int.Parse(s.ItemId[4..], System.Globalization.CultureInfo.InvariantCulture)),
            s.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        var signedTwice = pipeline.Kms.SignCallsOf(Pipeline.CentralKmsKeyId).Count - items;
        output.WriteLine($"killed with {doneAtKill} of {items} recorded; KMS calls beyond one per item: {signedTwice}");
        Assert.InRange(signedTwice, 0, 32);
    }

    private static Task<long> CountAsync(Pipeline pipeline, string sql, string batchId) =>
        Sql.ScalarAsync<long>(pipeline.Postgres, sql, ("b", Guid.Parse(batchId)));

    private static async Task<List<(string ItemId, byte[] Signature)>> SignaturesAsync(Pipeline pipeline, string batchId) =>
        (await Sql.QueryAsync(pipeline.Postgres, "SELECT item_id, signature FROM signer.sign_results WHERE batch_id = @b", ("b", Guid.Parse(batchId))))
            .Select(r => ((string)r[0]!, (byte[])r[1]!)).ToList();
}
