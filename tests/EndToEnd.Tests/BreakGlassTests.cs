using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;
using EdgeSigner.Guardrails.Flags;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The seed's break-glass runbook against a distributed deployment of two ingress instances and two workers on
/// real RabbitMQ and PostgreSQL: each level's effect on the next request to any instance, and its audit rows.
/// </summary>
public sealed class BreakGlassTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;
    private readonly List<HttpClient> _acme = [];
    private readonly List<HttpClient> _globex = [];

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        // Only the FlagsChanged events can deliver a change within a second: the periodic reload is slower here.
        _pipeline.Settings["EdgeSigner:FlagsSync:ReloadIntervalMs"] = "60000";
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
        await _pipeline.StartIngressAsync();
        var acmeKey = await _pipeline.CreateTenantAsync("acme");
        var globexKey = await _pipeline.CreateTenantAsync("globex");
        foreach (var ingress in _pipeline.Ingresses)
        {
            _acme.Add(Pipeline.TenantClient(acmeKey, ingress));
            _globex.Add(Pipeline.TenantClient(globexKey, ingress));
        }
    }

    [Fact]
    public async Task Levels_1_2_and_3_take_effect_on_every_instance_within_a_second_and_are_audited()
    {
        using var admin = _pipeline.AdminClient(_pipeline.Ingresses[1]);
        await ChangeFlagsAsync(admin, """{"action":"update","flag":"edge_signer_enabled","value":true}""");
        await ChangeFlagsAsync(admin, """{"action":"update","flag":"tenant_allowlist","value":["acme","globex"]}""");
        await AssertModesAsync(_acme, "edge-tbs+remote-es256");
        await AssertModesAsync(_globex, "edge-tbs+remote-es256");

        // Level 1, the seed's body as its runbook writes it: acme alone leaves the edge path.
        await ChangeFlagsAsync(admin, """
            {
              "action": "update",
              "flag": "edge_signer_enabled",
              "tenant_id": "acme",
              "value": false
            }
            """);
        await AssertModesAsync(_acme, "central-fallback");
        await AssertModesAsync(_globex, "edge-tbs+remote-es256");

        // Level 2: everyone to central, then resume.
        await ChangeFlagsAsync(admin, """{"action": "emergency_shutdown", "service": "edge_signer"}""");
        await AssertModesAsync(_globex, "central-fallback");
        await AssertModesAsync(_acme, "central-fallback");
        await ChangeFlagsAsync(admin, """{"action": "resume", "service": "edge_signer"}""");
        await AssertModesAsync(_globex, "edge-tbs+remote-es256");
        await AssertModesAsync(_acme, "central-fallback"); // its own level-1 override still holds

        var flags = await admin.GetFromJsonAsync<JsonElement>("/admin/flags");
        Assert.False(flags.GetProperty("tenants").GetProperty("acme").GetProperty("edge_signer_enabled").GetBoolean());
        Assert.False(flags.GetProperty("break_glass").GetProperty("emergency_shutdown").GetBoolean());

        // Level 3: in-flight work finishes, new signing calls get 503 and readiness fails, on every instance.
        _pipeline.Kms.SignLatency = TimeSpan.FromSeconds(2);
        var callsBefore = _pipeline.Kms.SignCalls;
        var inFlight = _globex[0].PostAsJsonAsync("/v1/sign", new { payload = "aW4tZmxpZ2h0" });
        await Eventually.GetAsync(() => Task.FromResult(_pipeline.Kms.SignCalls), n => n > callsBefore, what: "the in-flight request at KMS");
        await ChangeFlagsAsync(admin, """{"action": "remove_route", "service": "edge_signer"}""");
        foreach (var (client, ingress) in _globex.Zip(_pipeline.Ingresses))
        {
            var refused = await client.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("service_unavailable", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_type").GetString());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ingress.Http.GetAsync("/readyz")).StatusCode);
        }

        var finished = await inFlight;
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        _pipeline.Kms.SignLatency = TimeSpan.Zero;

        await ChangeFlagsAsync(admin, """{"action": "restore_route", "service": "edge_signer"}""");
        foreach (var ingress in _pipeline.Ingresses)
        {
            Assert.Equal(HttpStatusCode.OK, (await ingress.Http.GetAsync("/readyz")).StatusCode);
        }

        await AssertModesAsync(_globex, "edge-tbs+remote-es256");

        // Each action is in the audit trail with its value before and after.
        var rows = await Eventually.GetAsync(() => AuditTrailAsync(), r => r.Count(x => x.Action.StartsWith("flags.", StringComparison.Ordinal)) >= 7,
            what: "the flag changes in audit.audit_trail");
        var level1Row = Assert.Single(rows, r => r.Target == "acme/edge_signer_enabled");
        Assert.Equal(("flags.update", "admin", "allowed", 200), (level1Row.Action, level1Row.Actor, level1Row.Outcome, level1Row.StatusCode));
        Assert.DoesNotContain("\"acme\":", level1Row.Before!, StringComparison.Ordinal);
        Assert.Contains("\"acme\":{\"edge_signer_enabled\":false", level1Row.After!, StringComparison.Ordinal);
        Assert.NotEmpty(level1Row.SourceAddress);
        var shutdown = Assert.Single(rows, r => r.Action == "flags.emergency_shutdown");
        Assert.Contains("\"emergency_shutdown\":false", shutdown.Before!, StringComparison.Ordinal);
        Assert.Contains("\"emergency_shutdown\":true", shutdown.After!, StringComparison.Ordinal);
        Assert.Single(rows, r => r.Action == "flags.remove_route");
        Assert.Single(rows, r => r.Action == "flags.restore_route");
    }

    [Fact]
    public async Task Denied_and_invalid_admin_calls_get_their_status_and_error_type_and_are_audited()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_pipeline.Ingress!.Url) };
        var noToken = await PostFlagsAsync(anonymous, """{"action": "emergency_shutdown", "service": "edge_signer"}""");
        await AssertProblemAsync(noToken, HttpStatusCode.Unauthorized, "unauthenticated");

        anonymous.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer not-the-admin-token");
        await AssertProblemAsync(await PostFlagsAsync(anonymous, """{"action": "emergency_shutdown", "service": "edge_signer"}"""),
            HttpStatusCode.Unauthorized, "unauthenticated");

        using var admin = _pipeline.AdminClient();
        var unknown = await AssertProblemAsync(await PostFlagsAsync(admin, """{"action":"update","flag":"edge_enabled","value":true}"""),
            HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains("edge_enabled", unknown.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var wrongType = await AssertProblemAsync(await PostFlagsAsync(admin, """{"action":"update","flag":"max_payload_size","value":"big"}"""),
            HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains("max_payload_size", wrongType.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Nothing changed: the shutdown attempts were refused.
        var flags = await admin.GetFromJsonAsync<JsonElement>("/admin/flags");
        Assert.False(flags.GetProperty("break_glass").GetProperty("emergency_shutdown").GetBoolean());

        var rows = await Eventually.GetAsync(() => AuditTrailAsync(), r => r.Count(x => x.Outcome == "denied") >= 2 && r.Count(x => x.Outcome == "rejected") >= 2,
            what: "the denied and rejected calls in audit.audit_trail");
        Assert.All(rows.Where(r => r.Outcome == "denied"), r => Assert.Equal(("anonymous", 401), (r.Actor, r.StatusCode)));
        Assert.Contains(rows, r => r.Outcome == "rejected" && r.Action == "flags.update" && r.StatusCode == 400);
    }

    [Fact]
    public async Task Smart_placement_signs_in_the_replica_nearest_the_callers_region()
    {
        using var admin = _pipeline.AdminClient();
        await ChangeFlagsAsync(admin, """{"action":"update","flag":"edge_signer_enabled","value":true}""");
        await ChangeFlagsAsync(admin, """{"action":"update","flag":"tenant_allowlist","value":["acme"]}""");
        await ChangeFlagsAsync(admin, """{"action":"update","flag":"smart_placement_enabled","value":true}""");

        foreach (var (clientRegion, expected) in new[] { ("us-east-2", "us-east-1"), ("eu-west-3", "eu-west-1"), ("ap-south-1", "eu-west-1"), ("us-east-1", "us-east-1") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "cGxhY2VkIQ==" }) };
            request.Headers.Add("X-Client-Region", clientRegion);
            var response = await _acme[0].SendAsync(request);
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("edge-tbs+remote-es256", result.GetProperty("signing_mode").GetString());
            Assert.Equal(expected, result.GetProperty("region").GetString());

            var requestId = result.GetProperty("request_id").GetGuid();
            var rows = await Eventually.GetAsync(() => AuditRows.ForRequestAsync(_pipeline.Postgres, requestId), r => r.Any(x => x.EventType == "edge_sign_success"));
            Assert.Equal(expected, rows.Single(r => r.EventType == "edge_sign_success").KmsRegion);
        }

        Assert.True(_pipeline.Kms.SignCallsFor(Pipeline.EdgeUsKmsKeyId) >= 2);
    }

    [Fact]
    public async Task The_flags_survive_restarts_of_every_service()
    {
        using (var admin = _pipeline.AdminClient())
        {
            await PostFlagsAsync(admin, """{"action":"update","flag":"edge_signer_enabled","value":true}""");
            await PostFlagsAsync(admin, """{"action":"update","flag":"tenant_allowlist","value":["acme"]}""");
        }

        foreach (var host in _pipeline.Workers.Concat(_pipeline.Ingresses).ToList())
        {
            await host.DisposeAsync();
        }

        _pipeline.Workers.Clear();
        _pipeline.Ingresses.Clear();
        await _pipeline.StartWorkerAsync();
        var ingress = await _pipeline.StartIngressAsync();
        using var acme = Pipeline.TenantClient(await _pipeline.CreateTenantAsync("acme-2"), ingress);
        using var admin2 = _pipeline.AdminClient();
        await PostFlagsAsync(admin2, """{"action":"update","flag":"tenant_allowlist","value":["acme","acme-2"]}""");

        var mode = await Eventually.GetAsync(async () =>
        {
            var response = await acme.PostAsJsonAsync("/v1/sign", new { payload = "cmVzdGFydGVk" });
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signing_mode").GetString();
        }, m => m == "edge-tbs+remote-es256", TimeSpan.FromSeconds(10), "the restarted worker on the edge path");
        Assert.Equal("edge-tbs+remote-es256", mode);
        var flags = await admin2.GetFromJsonAsync<JsonElement>("/admin/flags");
        Assert.True(flags.GetProperty("global").GetProperty("edge_signer_enabled").GetBoolean());
    }

    /// <summary>
    /// Makes a flag change and waits until every ingress and worker holds its version: the contract is within one
    /// second, so that is the bound (the condition is polled; nothing sleeps for a fixed time).
    /// </summary>
    private async Task ChangeFlagsAsync(HttpClient admin, string json)
    {
        var response = await PostFlagsAsync(admin, json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var version = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
        var hosts = _pipeline.Ingresses.Concat(_pipeline.Workers).ToList();
        await Eventually.GetAsync(
            () => Task.FromResult(hosts.Count(h => h.Services.GetRequiredService<FlagsState>().Current.Version >= version)),
            n => n == hosts.Count, TimeSpan.FromSeconds(1), $"flags version {version} on all {hosts.Count} instances");
    }

    /// <summary>Several requests through each ingress (so both workers take some), all in the expected mode.</summary>
    private static async Task AssertModesAsync(List<HttpClient> clients, string expected)
    {
        foreach (var client in clients)
        {
            for (var i = 0; i < 4; i++)
            {
                var response = await client.PostAsJsonAsync("/v1/sign", new { payload = "bW9kZQ==" });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var result = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(expected, result.GetProperty("signing_mode").GetString());
                Assert.Equal(expected == "central-fallback" ? "eu-central-1" : "eu-west-1", result.GetProperty("region").GetString());
            }
        }
    }

    private static Task<HttpResponseMessage> PostFlagsAsync(HttpClient client, string json) =>
        client.PostAsync("/admin/flags", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string errorType)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(errorType, problem.GetProperty("error_type").GetString());
        return problem;
    }

    private sealed record TrailRow(string Action, string? Target, string Actor, string SourceAddress, string Outcome, int StatusCode, string? Before, string? After);

    private async Task<List<TrailRow>> AuditTrailAsync()
    {
        await using var connection = new NpgsqlConnection(_pipeline.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT action, target, actor, source_address, outcome, status_code, before, after FROM audit.audit_trail ORDER BY occurred_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<TrailRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new TrailRow(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return rows;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _acme.Concat(_globex))
        {
            client.Dispose();
        }

        await _pipeline.DisposeAsync();
    }
}
