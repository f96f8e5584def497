using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>Limits that hold across instances: a tenant's bucket shared by two ingresses, a KMS budget shared by two workers.</summary>
public sealed class BackpressureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Two_ingress_instances_share_one_tenants_limit_and_clear_refills_it_everywhere()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        await pipeline.StartWorkerAsync();
        var first = await pipeline.StartIngressAsync();
        var second = await pipeline.StartIngressAsync();
        using var admin = pipeline.AdminClient();
        var key = await Pipeline.CreateTenantAsync(admin, "limited", ratePerSecond: 5, burst: 10);
        using var a = Pipeline.TenantClient(key, first);
        using var b = Pipeline.TenantClient(key, second);

        var watch = Stopwatch.StartNew();
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            var pair = await Task.WhenAll(a.PostAsJsonAsync("/v1/sign", new { payload = "bGltaXQ=" }), b.PostAsJsonAsync("/v1/sign", new { payload = "bGltaXQ=" }));
            responses.AddRange(pair);
        }

        var elapsed = watch.Elapsed.TotalSeconds;
        output.WriteLine($"tenant limit 5/s burst 10 over two instances: {responses.Count(r => r.StatusCode == HttpStatusCode.OK)} of {responses.Count} accepted in {elapsed:F2} s");
        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(responses.Count, accepted + limited.Count); // nothing else
        Assert.True(accepted <= 10 + (5 * elapsed) + 1, $"{accepted} accepted in {elapsed:F1} s; the limit allows {10 + (5 * elapsed):F1}");
        Assert.True(accepted >= 10, $"{accepted} accepted: the burst alone allows 10");
        Assert.Contains(responses.Where(r => r.StatusCode == HttpStatusCode.OK), r => r.RequestMessage!.RequestUri!.Port == new Uri(second.Url).Port);

        var refused = limited[^1];
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("rate_limited", problem.GetProperty("error_type").GetString());
        Assert.True(int.Parse(refused.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("10", refused.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("0", refused.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.True(int.Parse(refused.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);

        // The operator's clear, sent to the first instance, refills the bucket the second one uses. First the bucket is
        // empty again: at 5 tokens a second one may have come back since the last refusal.
        await Eventually.GetAsync(async () => (await b.PostAsJsonAsync("/v1/sign", new { payload = "bGltaXQ=" })).StatusCode,
            s => s == HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(10), "the tenant's bucket empty");
        var cleared = await admin.PostAsync("/admin/rate-limiter", new StringContent("""{"action":"clear","tenant_id":"limited"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        var afterClear = await b.PostAsJsonAsync("/v1/sign", new { payload = "bGltaXQ=" });
        Assert.Equal(HttpStatusCode.OK, afterClear.StatusCode);
        Assert.Equal("9", afterClear.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task Two_workers_never_push_kms_past_its_budget_and_use_almost_all_of_it()
    {
        const double budget = 50;
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:KmsBudget:Regions:eu-central-1"] = "50";
        pipeline.Kms.QuotaPerSecond = budget; // the account's quota, as AWS would enforce it
        await pipeline.StartAuditSinkAsync();
        var ingress = await pipeline.StartIngressAsync();

        // Demand far above the budget: 1,500 requests queued before any worker runs.
        var send = await ingress.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(SignQueues.SignRequestedAddress);
        var now = DateTimeOffset.UtcNow;
        await send.SendBatch(Enumerable.Range(0, 1500).Select(i => new SignRequested
        {
            RequestId = Guid.NewGuid(), TenantId = "acme", Kid = Pipeline.Kid, Format = "raw", TbsDigest = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)),
            PayloadSize = 4, Deadline = now.AddMinutes(5), ReceivedAt = now, ItemId = $"item-{i}",
        }));

        var startedAt = DateTimeOffset.UtcNow;
        await Task.WhenAll(pipeline.StartWorkerAsync(), pipeline.StartWorkerAsync());
        await Task.Delay(TimeSpan.FromSeconds(13));

        // A 10-second window once both workers run.
        var from = startedAt.AddSeconds(2);
        var calls = pipeline.Kms.SignCallsOf(Pipeline.CentralKmsKeyId).Count(c => c.At >= from && c.At < from.AddSeconds(10));
        output.WriteLine($"KMS budget {budget}/s, two workers, 10 s window: {calls} calls ({calls / (budget * 10):F3} of the budget), {pipeline.Kms.Throttles} throttles");
        Assert.True(calls <= budget * 10 * 1.02, $"{calls} KMS calls in 10 s; the budget allows {budget * 10 * 1.02}");
        Assert.True(calls >= budget * 10 * 0.9, $"{calls} KMS calls in 10 s; at least {budget * 10 * 0.9} expected with demand far above the budget");
        Assert.Equal(0, pipeline.Kms.Throttles);

        // The quota monitor sees the region at its budget.
        using var admin = pipeline.AdminClient();
        var quota = await Eventually.GetAsync(async () => await admin.GetFromJsonAsync<JsonElement>("/admin/quota"),
            q => q.GetProperty("regions").EnumerateArray().Any(r => r.GetProperty("region").GetString() == "eu-central-1"
                && r.GetProperty("current_usage").GetProperty("daily_requests").GetInt64() >= 400), what: "the region in /admin/quota");
        var region = quota.GetProperty("regions").EnumerateArray().Single(r => r.GetProperty("region").GetString() == "eu-central-1");
        Assert.Equal(budget, region.GetProperty("quota_per_second").GetDouble());
        Assert.InRange(region.GetProperty("current_usage").GetProperty("requests_per_second").GetDouble(), budget * 0.5, budget * 1.1);
    }
}
