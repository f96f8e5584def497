using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using MassTransit;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// Issue 8: what an operator sees. Log lines, metrics, traces, analytics events and the status page after known
/// traffic through real RabbitMQ and PostgreSQL, and the KMS-compatible server.
/// </summary>
public sealed class ObservabilityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] SeedLogFields =
    [
        "request_id", "tenant_id", "timestamp", "region", "t_wasm_ms", "t_kms_ms", "t_total_ms", "cpu_ms_used", "memory_mb_used",
        "tbs_hash", "kms_key_id", "kms_region", "success", "error_type", "error_message", "retry_count", "fallback_triggered",
    ];

    [Fact]
    public async Task Three_service_processes_log_the_seed_fields_under_one_request_id_and_export_the_named_metrics()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        await using var sink = await ServiceProcess.StartAsync("EdgeSigner.AuditSink", pipeline.Settings);
        await using var worker = await ServiceProcess.StartAsync("EdgeSigner.SignWorker", pipeline.Settings);
        await using var ingress = await ServiceProcess.StartAsync("EdgeSigner.Ingress", pipeline.Settings);
        using var admin = new HttpClient { BaseAddress = new Uri(ingress.Url) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Pipeline.AdminToken);
        var apiKey = await Pipeline.CreateTenantAsync(admin, "acme");
        using var acme = new HttpClient { BaseAddress = new Uri(ingress.Url) };
        acme.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        // Known traffic: three signed on the central path (edge is off by default), one refused by validation.
        var canary = $"observability-canary-{Guid.NewGuid():N}";
        var payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(canary));
        var requestIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var signed = await acme.PostAsJsonAsync("/v1/sign", new { payload, format = "jws" });
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
            requestIds.Add((await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!);
        }

        var refused = await acme.PostAsJsonAsync("/v1/sign", new { payload = "not base64!", format = "raw" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var refusedId = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!;

        // Logs: each service wrote one event per request, carrying every seed field, all under the same request id.
        var id = requestIds[0];
        var lines = new Dictionary<string, JsonElement>();
        foreach (var (service, process) in new[] { ("ingress", ingress), ("sign-worker", worker), ("audit-sink", sink) })
        {
            lines[service] = (await Eventually.GetAsync(() => Task.FromResult(SignEvents(process, id)), e => e.Count == 1,
                TimeSpan.FromSeconds(20), $"{service}'s log event for {id}"))[0];
            foreach (var field in SeedLogFields)
            {
                Assert.True(lines[service].TryGetProperty(field, out _), $"{service}'s event lacks {field}: {lines[service]}");
            }

            Assert.Equal(id, lines[service].GetProperty("request_id").GetString());
            Assert.Equal("acme", lines[service].GetProperty("tenant_id").GetString());
            Assert.True(lines[service].GetProperty("success").GetBoolean());
            Assert.Equal(Pipeline.CentralKmsKeyId, lines[service].GetProperty("kms_key_id").GetString());
            Assert.Equal("eu-central-1", lines[service].GetProperty("kms_region").GetString());
            Assert.Equal("central-fallback", lines[service].GetProperty("signing_mode").GetString());
            Assert.Matches("^[0-9a-f]{64}$", lines[service].GetProperty("tbs_hash").GetString());
            Assert.True(lines[service].GetProperty("t_kms_ms").GetDouble() > 0, $"{service}: t_kms_ms");
            Assert.True(lines[service].GetProperty("t_total_ms").GetDouble() >= lines[service].GetProperty("t_kms_ms").GetDouble(), $"{service}: t_total_ms");
            Assert.True(lines[service].GetProperty("memory_mb_used").GetDouble() > 0, $"{service}: memory_mb_used");
        }

        Assert.Equal(lines["ingress"].GetProperty("tbs_hash").GetString(), lines["audit-sink"].GetProperty("tbs_hash").GetString());
        var refusedLine = Assert.Single(SignEvents(ingress, refusedId));
        Assert.False(refusedLine.GetProperty("success").GetBoolean());
        Assert.Equal("invalid_request", refusedLine.GetProperty("error_type").GetString());

        // Metrics: each service's /metrics after the traffic above.
        var workerMetrics = await Eventually.GetAsync(() => PrometheusText.ScrapeAsync(worker.Url),
            m => Sum(m, "edgesigner_sign_requests_total", ("outcome", "success"), ("tenant", "acme")) == 3, TimeSpan.FromSeconds(10), "the worker's counters");
        Assert.Equal(3, Sum(workerMetrics, "edgesigner_sign_requests_total", ("signing_mode", "central-fallback"), ("region", "eu-central-1")));
        Assert.Equal(3, Sum(workerMetrics, "edgesigner_sign_duration_seconds_count", ("signing_mode", "central-fallback"), ("region", "eu-central-1")));
        Assert.InRange(Sum(workerMetrics, "edgesigner_sign_duration_seconds_sum"), 0.0001, 30);
        Assert.Equal(3, Sum(workerMetrics, "edgesigner_kms_requests_total", ("key_id", Pipeline.CentralKmsKeyId), ("operation", "Sign"), ("outcome", "success")));
        Assert.Equal(3 * 0.15 / 10_000, Sum(workerMetrics, "edgesigner_kms_cost_usd_total", ("operation", "Sign")), 12);
        Assert.Equal(300, Sum(workerMetrics, "edgesigner_kms_budget_per_second", ("region", "eu-central-1")));
        Assert.InRange(Sum(workerMetrics, "edgesigner_process_memory_utilization"), 0.000001, 1);
        Assert.Contains(workerMetrics, s => s.Name.StartsWith("messaging_masstransit_", StringComparison.Ordinal));
        Assert.Contains(workerMetrics, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));

        var ingressMetrics = await PrometheusText.ScrapeAsync(ingress.Url);
        Assert.Equal(1, Sum(ingressMetrics, "edgesigner_ingress_rejections_total", ("error_type", "invalid_request"), ("tenant", "acme")));
        Assert.Contains(ingressMetrics, s => s.Name == "http_server_request_duration_seconds_count" && s["http_route"] == "/v1/sign");

        var sinkMetrics = await Eventually.GetAsync(() => PrometheusText.ScrapeAsync(sink.Url),
            m => Sum(m, "edgesigner_audit_events_total", ("type", "edge_sign_success"), ("result", "written")) == 3, TimeSpan.FromSeconds(20), "the sink's counters");
        Assert.Contains(sinkMetrics, s => s.Name.StartsWith("db_client_", StringComparison.Ordinal));

        // Nothing secret in any output: not the payload (plain or base64), not the API key, not the admin token.
        foreach (var (service, process) in new[] { ("ingress", ingress), ("sign-worker", worker), ("audit-sink", sink) })
        {
            var all = string.Join('\n', process.Output);
            foreach (var secret in new[] { canary, payload, apiKey, Pipeline.AdminToken })
            {
                Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
            }

            output.WriteLine($"{service}: {process.Output.Count} lines checked");
        }
    }

    [Fact]
    public async Task One_trace_spans_ingress_bus_worker_kms_and_sink()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:Tracing:Enabled"] = "true"; // no OTLP endpoint here: record for this process's listener
        await pipeline.StartAuditSinkAsync();
        await pipeline.StartWorkerAsync();
        await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");

        // The caller starts the trace, so this test finds its own spans among those of tests running beside it.
        using var source = new ActivitySource("EdgeSigner.Tests");
        ActivityTraceId traceId;
        using (var root = source.StartActivity("sign a payload", ActivityKind.Client)!)
        {
            traceId = root.TraceId;
            var signed = await acme.PostAsJsonAsync("/v1/sign", new { payload = "dHJhY2Vk", format = "raw" });
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        }

        var trace = await Eventually.GetAsync(() => Task.FromResult(activities.Where(a => a.TraceId == traceId).ToList()),
            t => t.Any(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == "/v1/sign")
                && t.Any(a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer && a.DisplayName.Contains("sign-requested", StringComparison.Ordinal))
                && t.Any(a => a.Kind == ActivityKind.Client && (a.GetTagItem("server.address") as string) == "127.0.0.1" && (a.GetTagItem("url.full") as string ?? string.Empty).StartsWith(pipeline.Kms.Url, StringComparison.Ordinal))
                && t.Any(a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer && a.DisplayName.Contains("audit", StringComparison.OrdinalIgnoreCase)),
            TimeSpan.FromSeconds(20), "spans of the worker, the KMS call and the sink in the ingress's trace");
        foreach (var a in trace.OrderBy(a => a.StartTimeUtc))
        {
            output.WriteLine($"{a.Source.Name} {a.Kind} {a.DisplayName}");
        }
    }

    [Fact]
    public async Task Analytics_events_for_attempt_and_success_are_published_on_the_bus()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        var received = new ConcurrentQueue<AnalyticsEvent>();
        var uri = new Uri(pipeline.RabbitMq);
        var user = uri.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(uri, h =>
            {
                h.Username(Uri.UnescapeDataString(user[0]));
                h.Password(Uri.UnescapeDataString(user[1]));
            });
            cfg.ReceiveEndpoint("analytics-test", e => e.Handler<AnalyticsEvent>(context =>
            {
                received.Enqueue(context.Message);
                return Task.CompletedTask;
            }));
        });
        await bus.StartAsync();
        try
        {
            await pipeline.StartAuditSinkAsync();
            await pipeline.StartWorkerAsync();
            await pipeline.StartIngressAsync();
            using var acme = await pipeline.CreateTenantClientAsync("acme");
            var signed = await acme.PostAsJsonAsync("/v1/sign", new { payload = "YW5hbHl0aWNz", format = "raw" });
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
            var requestId = Guid.Parse((await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!);

            var events = await Eventually.GetAsync(() => Task.FromResult(received.Where(e => e.Properties.RequestId == requestId).ToList()),
                e => e.Count == 2, TimeSpan.FromSeconds(10), "the attempt and success analytics events");
            Assert.Equal([AnalyticsEvent.Attempt, AnalyticsEvent.Success], events.Select(e => e.Event).Order(StringComparer.Ordinal));
            var success = events.Single(e => e.Event == AnalyticsEvent.Success).Properties;
            Assert.Equal(("acme", "central-fallback", 9, "eu-central-1", (string?)null),
                (success.TenantId, success.SigningMode, success.PayloadSize, success.Region, success.ErrorType));
            Assert.True(success.LatencyMs > 0);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static List<JsonElement> SignEvents(ServiceProcess process, string requestId) => process.Output
        .Where(l => l.StartsWith('{') && l.Contains(requestId, StringComparison.Ordinal) && l.Contains("\"t_kms_ms\"", StringComparison.Ordinal))
        .Select(l => JsonDocument.Parse(l).RootElement.Clone())
        .ToList();

    private static double Sum(IEnumerable<PrometheusSample> samples, string name, params (string Label, string Value)[] labels) => samples
        .Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value))
        .Sum(s => s.Value);
}
