using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;
using Npgsql;
using static EdgeSigner.Testing.FakeKmsServer;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The failure policy under faults injected into the KMS-compatible server, driving the real worker through the
/// real AWS SDK over real RabbitMQ. Every request ends with a signature or a clear error, and the breaker's
/// transitions follow the seed's rules. Backoff and reset intervals are shortened by configuration.
/// </summary>
public sealed class FailurePolicyTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;
    private HttpClient _acme = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        _pipeline.Settings["EdgeSigner:FailurePolicy:BaseDelayMs"] = "100";
        _pipeline.Settings["EdgeSigner:FailurePolicy:MaxDelayMs"] = "1000";
        _pipeline.Settings["EdgeSigner:FailurePolicy:BreakerResetIntervalMs"] = "1500";
        // MassTransit's breaker counts in fixed windows from its creation: a long one, so no window ends inside a test.
        _pipeline.Settings["EdgeSigner:FailurePolicy:BreakerWindowMs"] = "600000";
        _pipeline.Settings["EdgeSigner:FailurePolicy:StatusReportIntervalMs"] = "300";
        await _pipeline.StartAuditSinkAsync();
    }

    private async Task StartAsync(int workers = 1)
    {
        for (var i = 0; i < workers; i++)
        {
            await _pipeline.StartWorkerAsync();
        }

        await _pipeline.StartIngressAsync();
        _acme = await _pipeline.CreateTenantClientAsync("acme");
        using var admin = _pipeline.AdminClient();
        await PostAsync(admin, "/admin/flags", """{"action":"update","flag":"edge_signer_enabled","value":true}""");
        await PostAsync(admin, "/admin/flags", """{"action":"update","flag":"tenant_allowlist","value":["acme"]}""");
        Assert.Equal("edge-tbs+remote-es256", (await SignAsync()).GetProperty("signing_mode").GetString());
    }

    [Fact]
    public async Task A_throttling_storm_opens_the_breaker_on_the_first_throttle_a_failed_probe_reopens_it_and_successful_probes_close_it()
    {
        await StartAsync();
        var edgeCallsBefore = _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId);
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Throttle);

        var results = new List<JsonElement>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await SignAsync());
        }

        Assert.All(results, r => Assert.Equal("central-fallback", r.GetProperty("signing_mode").GetString()));
        Assert.Equal(1, _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId) - edgeCallsBefore); // open after the first: no more edge calls
        var breaker = await BreakerAsync(b => b.GetProperty("state").GetString() == "OPEN");
        Assert.Equal("throttled", breaker.GetProperty("last_transition_reason").GetString());

        // Still throttling after the reset interval: the probe fails and the breaker opens again.
        await BreakerAsync(b => b.GetProperty("state").GetString() == "HALF_OPEN");
        var edgeCallsHalfOpen = _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId);
        Assert.Equal("central-fallback", (await SignAsync()).GetProperty("signing_mode").GetString());
        Assert.Equal(1, _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId) - edgeCallsHalfOpen); // the probe reached KMS
        var reopened = await BreakerAsync(b => b.GetProperty("state").GetString() == "OPEN");
        Assert.Equal("probe_failed", reopened.GetProperty("last_transition_reason").GetString());

        _pipeline.Kms.Recover(Pipeline.EdgeKmsKeyId);
        var halfOpen = await BreakerAsync(b => b.GetProperty("state").GetString() == "HALF_OPEN"); // after the reset interval
        Assert.Equal("reset_interval", halfOpen.GetProperty("last_transition_reason").GetString());
        // Half-open, MassTransit's breaker lets calls through; the throttle breaker closes on its second success.
        Assert.Equal("edge-tbs+remote-es256", (await SignAsync()).GetProperty("signing_mode").GetString());
        Assert.Equal("edge-tbs+remote-es256", (await SignAsync()).GetProperty("signing_mode").GetString());
        var closed = await BreakerAsync(b => b.GetProperty("state").GetString() == "CLOSED");
        Assert.Equal("probe_succeeded", closed.GetProperty("last_transition_reason").GetString());

        var requestId = results[1].GetProperty("request_id").GetGuid();
        var rows = await Eventually.GetAsync(() => SignRowsAsync(requestId), r => r.Count >= 2);
        var success = rows.Single(r => r.EventType == "edge_sign_success");
        Assert.True(success.FallbackTriggered);
        Assert.Equal("circuit_open", success.ErrorType);
        await Eventually.GetAsync(() => TrailActionsAsync(), a => a.Contains("breaker.open") && a.Contains("breaker.half_open") && a.Contains("breaker.closed"),
            what: "the breaker transitions in the audit trail");
    }

    [Fact]
    public async Task A_5xx_burst_is_retried_with_growing_jittered_delays_then_falls_back_and_the_sixth_call_in_the_window_opens_the_breaker()
    {
        await StartAsync();
        var before = _pipeline.Kms.SignCallsOf(Pipeline.EdgeKmsKeyId).Count;
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.InternalError, count: 4);

        var first = await SignAsync();

        Assert.Equal("central-fallback", first.GetProperty("signing_mode").GetString());
        var calls = _pipeline.Kms.SignCallsOf(Pipeline.EdgeKmsKeyId).Skip(before).ToList();
        Assert.Equal(4, calls.Count); // the first try and three retries
        var gaps = calls.Zip(calls.Skip(1), (a, b) => (b.At - a.At).TotalMilliseconds).ToList();
        // Equal jitter with a 100 ms base: retry n waits at least 50 × 2^(n-1) ms. Only the lower bounds are asserted
        // here: on a shared machine a pause can only come out longer, and the upper bounds of the jitter are checked
        // without a clock in KmsFaultTests.
        var shown = string.Join(", ", gaps.Select(g => g.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(gaps[0] >= 45 && gaps[1] >= 95 && gaps[2] >= 195, $"backoff gaps {shown} ms reach their minimum pauses");
        // The view is the workers' last report: wait for the one that counts the fourth failure.
        var state = await BreakerAsync(b => b.GetProperty("failures_in_window").GetInt32() == 4);
        Assert.Equal("CLOSED", state.GetProperty("state").GetString()); // five calls in the window (one signed, four failed): not more than five

        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.InternalError, count: 10);
        var second = await SignAsync();
        Assert.Equal("central-fallback", second.GetProperty("signing_mode").GetString());
        Assert.Equal(5, _pipeline.Kms.SignCallsOf(Pipeline.EdgeKmsKeyId).Count - before); // the sixth call, five of six failed (≥ 15 %), opened it
        var open = await BreakerAsync(b => b.GetProperty("state").GetString() == "OPEN");
        Assert.Equal("failure_threshold", open.GetProperty("last_transition_reason").GetString());

        await SignAsync();
        Assert.Equal(5, _pipeline.Kms.SignCallsOf(Pipeline.EdgeKmsKeyId).Count - before); // open: no edge call
    }

    [Fact]
    public async Task A_hanging_kms_falls_back_after_the_timeout_and_answers_before_the_deadline()
    {
        _pipeline.Settings["EdgeSigner:Api:SyncTimeoutMs"] = "3000";
        await StartAsync();
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Hang);
        using var admin = _pipeline.AdminClient();

        // kms_timeout_ms at the seed's 30 s: the deadline (3 s) bounds the call, keeping time for the fallback.
        var watch = Stopwatch.StartNew();
        var bounded = await SignAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"answered after {watch.Elapsed}");
        Assert.Equal("central-fallback", bounded.GetProperty("signing_mode").GetString());

        await PostAsync(admin, "/admin/flags", """{"action":"update","flag":"kms_timeout_ms","value":300}""");
        await PostAsync(admin, "/admin/circuit-breaker", """{"action":"reset","service":"kms_signer"}""");
        await Task.Delay(TimeSpan.FromSeconds(1));
        watch.Restart();
        var quick = await SignAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"answered after {watch.Elapsed}");
        Assert.Equal("central-fallback", quick.GetProperty("signing_mode").GetString());

        var rows = await Eventually.GetAsync(() => SignRowsAsync(quick.GetProperty("request_id").GetGuid()), r => r.Count >= 2);
        Assert.Equal("kms_timeout", rows.Single(r => r.EventType == "edge_sign_success").ErrorType);
    }

    [Fact]
    public async Task A_disabled_key_is_not_retried_and_fails_with_a_precise_error()
    {
        await StartAsync();
        var edgeBefore = _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId);
        var centralBefore = _pipeline.Kms.SignCallsFor(Pipeline.CentralKmsKeyId);
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Disabled);

        var response = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "ZGlzYWJsZWQ=" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("kms_key_disabled", problem.GetProperty("error_type").GetString());
        Assert.Contains("DisabledException", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, _pipeline.Kms.SignCallsFor(Pipeline.EdgeKmsKeyId) - edgeBefore);
        Assert.Equal(0, _pipeline.Kms.SignCallsFor(Pipeline.CentralKmsKeyId) - centralBefore); // the key's policy allows no fallback

        var rows = await Eventually.GetAsync(() => SignRowsAsync(problem.GetProperty("request_id").GetGuid()), r => r.Any(x => x.EventType == "edge_sign_failure"));
        Assert.Equal("kms_key_disabled", rows.Single(r => r.EventType == "edge_sign_failure").ErrorType);
    }

    [Fact]
    public async Task When_central_fails_too_the_failure_names_both_causes_and_is_audited()
    {
        await StartAsync();
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Throttle);
        _pipeline.Kms.Inject(Pipeline.CentralKmsKeyId, Fault.InternalError);

        var response = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "Ym90aA==" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("signing_failed", problem.GetProperty("error_type").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("edge eu-west-1: kms_throttled", detail, StringComparison.Ordinal);
        Assert.Contains("central eu-central-1: kms_unavailable", detail, StringComparison.Ordinal);

        var rows = await Eventually.GetAsync(() => SignRowsAsync(problem.GetProperty("request_id").GetGuid()), r => r.Any(x => x.EventType == "edge_sign_failure"));
        var failure = rows.Single(r => r.EventType == "edge_sign_failure");
        Assert.Equal("signing_failed", failure.ErrorType);
        Assert.Contains("kms_throttled", failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("kms_unavailable", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_reset_closes_open_breakers_on_every_worker_within_a_second()
    {
        _pipeline.Settings["EdgeSigner:FailurePolicy:BreakerResetIntervalMs"] = "600000";
        await StartAsync(workers: 2);
        _pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Throttle);
        using var admin = _pipeline.AdminClient();

        var sent = 0;
        await Eventually.GetAsync(async () =>
        {
            Assert.Equal("central-fallback", (await SignAsync()).GetProperty("signing_mode").GetString());
            sent++;
            return await EdgeBreakerStatesAsync(admin);
        }, states => states.Count == 2 && states.All(s => s == "OPEN"), TimeSpan.FromSeconds(20), "both workers' edge breakers open");

        _pipeline.Kms.Recover(Pipeline.EdgeKmsKeyId);
        var reset = await PostAsync(admin, "/admin/circuit-breaker", """{"action":"reset","service":"kms_signer"}""");
        Assert.Equal(HttpStatusCode.Accepted, reset.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(["CLOSED", "CLOSED"], await EdgeBreakerStatesAsync(admin));
        Assert.Equal("edge-tbs+remote-es256", (await SignAsync()).GetProperty("signing_mode").GetString());
        var actions = await Eventually.GetAsync(() => TrailActionsAsync(), a => a.Count(x => x == "breaker.closed") >= 2 && a.Contains("circuit_breaker.reset"));
        Assert.True(actions.Count(x => x == "breaker.open") >= 2);
        Assert.True(sent >= 2);
    }

    private async Task<JsonElement> SignAsync()
    {
        var response = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "ZmF1bHRz" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>The aggregated breaker of the edge key in eu-west-1, once it matches.</summary>
    private async Task<JsonElement> BreakerAsync(Func<JsonElement, bool> done)
    {
        using var admin = _pipeline.AdminClient();
        return await Eventually.GetAsync(async () =>
        {
            var view = await admin.GetFromJsonAsync<JsonElement>("/admin/circuit-breaker");
            return view.GetProperty("breakers").EnumerateArray()
                .FirstOrDefault(b => b.GetProperty("kms_key_id").GetString() == Pipeline.EdgeKmsKeyId && b.GetProperty("region").GetString() == "eu-west-1");
        }, b => b.ValueKind == JsonValueKind.Object && done(b), TimeSpan.FromSeconds(10), "the edge breaker in /admin/circuit-breaker");
    }

    private static async Task<List<string>> EdgeBreakerStatesAsync(HttpClient admin)
    {
        var view = await admin.GetFromJsonAsync<JsonElement>("/admin/circuit-breaker");
        return view.GetProperty("workers").EnumerateArray()
            .Select(w => w.GetProperty("breakers").EnumerateArray()
                .Where(b => b.GetProperty("kms_key_id").GetString() == Pipeline.EdgeKmsKeyId)
                .Select(b => b.GetProperty("state").GetString()!).FirstOrDefault() ?? "NONE")
            .ToList();
    }

    private sealed record SignRow(string EventType, bool FallbackTriggered, string? ErrorType, string? ErrorMessage);

    private async Task<List<SignRow>> SignRowsAsync(Guid requestId)
    {
        await using var connection = new NpgsqlConnection(_pipeline.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT event_type, fallback_triggered, error_type, error_message FROM audit.sign_events WHERE request_id = @id", connection);
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<SignRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new SignRow(reader.GetString(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return rows;
    }

    private async Task<List<string>> TrailActionsAsync()
    {
        await using var connection = new NpgsqlConnection(_pipeline.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT action FROM audit.audit_trail ORDER BY occurred_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var actions = new List<string>();
        while (await reader.ReadAsync())
        {
            actions.Add(reader.GetString(0));
        }

        return actions;
    }

    public async Task DisposeAsync()
    {
        _acme?.Dispose();
        await _pipeline.DisposeAsync();
    }
}
