using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeSigner.Ingress.Admin;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// Issue 10's security suite: tenant isolation, authentication failures (slowed and recorded), the admin token,
/// SQL injection in every string field, and no secret in errors, metrics or the audit trail.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;
    private HttpClient _acme = null!;
    private HttpClient _globex = null!;
    private string _acmeKey = null!;
    private string _globexKey = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        _pipeline.Settings["EdgeSigner:AuthFailures:Burst"] = "5";
        _pipeline.Settings["EdgeSigner:AuthFailures:PerMinute"] = "1";
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
        _acmeKey = await _pipeline.CreateTenantAsync("acme");
        _globexKey = await _pipeline.CreateTenantAsync("globex");
        _acme = Pipeline.TenantClient(_acmeKey, _pipeline.Ingress!);
        _globex = Pipeline.TenantClient(_globexKey, _pipeline.Ingress!);
    }

    [Fact]
    public async Task Another_tenants_batch_results_and_idempotency_keys_are_out_of_reach()
    {
        var submitted = await _acme.PostAsJsonAsync("/v1/batches", new { items = new[] { new { id = "acme-secret-doc", payload = "YWNtZQ==" } } });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString()!;
        await Eventually.GetAsync(() => _acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}"), s => s.GetProperty("status").GetString() == "completed",
            TimeSpan.FromSeconds(20), "acme's batch");

        foreach (var path in new[] { $"/v1/batches/{batchId}", $"/v1/batches/{batchId}/results", $"/v1/batches/{batchId}/results?after=0&limit=10" })
        {
            using var response = await _globex.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal("not_found", JsonDocument.Parse(body).RootElement.GetProperty("error_type").GetString());
            Assert.DoesNotContain("acme", body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("acme-secret-doc", string.Join(' ', response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value)), StringComparison.Ordinal);
        }

        // An idempotency key is the tenant's own: globex reusing acme's gets its own signature over its own payload.
        using var acmeSign = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "YWNtZQ==" }) };
        acmeSign.Headers.Add("Idempotency-Key", "shared-key-1");
        var acmeResult = await (await _acme.SendAsync(acmeSign)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        using var globexSign = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "Z2xvYmV4" }) };
        globexSign.Headers.Add("Idempotency-Key", "shared-key-1");
        using var globexResponse = await _globex.SendAsync(globexSign);
        Assert.Equal(HttpStatusCode.OK, globexResponse.StatusCode);
        var globexResult = await globexResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(acmeResult.GetProperty("request_id").GetString(), globexResult.GetProperty("request_id").GetString());
        Assert.Equal("globex", globexResult.GetProperty("tenant_id").GetString());
        var key = (await Jwks.FetchAsync(_pipeline.Ingress!.Http))[Pipeline.Kid];
        Assert.True(key.VerifyData("globex"u8, Convert.FromBase64String(globexResult.GetProperty("signature_der").GetString()!), HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Missing_malformed_revoked_and_unknown_keys_are_refused_then_the_address_is_slowed_and_it_is_all_recorded()
    {
        // A key that worked, then revoked.
        using var admin = _pipeline.AdminClient();
        var issued = await (await admin.PostAsync("/admin/tenants/acme/keys", null)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        using var revokedClient = Pipeline.TenantClient(issued.GetProperty("api_key").GetString()!, _pipeline.Ingress!);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/acme/keys/{issued.GetProperty("key_id").GetString()}")).StatusCode);

        var attempts = new (string What, AuthenticationHeaderValue? Header)[]
        {
            ("missing", null),
            ("malformed", new AuthenticationHeaderValue("Bearer", "not-a-key")),
            ("wrong scheme", new AuthenticationHeaderValue("Basic", Convert.ToBase64String("acme:secret"u8))),
            ("revoked", new AuthenticationHeaderValue("Bearer", issued.GetProperty("api_key").GetString()!)),
            ("unknown", new AuthenticationHeaderValue("Bearer", "esk_" + new string('0', 40))),
        };
        foreach (var (what, header) in attempts)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "aGk=" }) };
            request.Headers.Authorization = header;
            using var response = await _pipeline.Ingress!.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode}");
            Assert.Equal("unauthenticated", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error_type").GetString());
        }

        // Five failures spent this address's budget (burst 5): the next call is slowed, even with a valid key.
        using var throttled = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" });
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("authentication_throttled", JsonDocument.Parse(await throttled.Content.ReadAsStringAsync()).RootElement.GetProperty("error_type").GetString());
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Recorded as security events in the audit trail: each failure, and the moment the address was throttled.
        var rows = await Eventually.GetAsync(() => Sql.QueryAsync(_pipeline.Postgres,
                "SELECT action, source_address, status_code FROM audit.audit_trail WHERE action LIKE 'security.%' ORDER BY seq"),
            r => r.Count >= 6, TimeSpan.FromSeconds(20), "the security events");
        Assert.Equal(5, rows.Count(r => (string)r[0]! == "security.authentication_failed" && (int)r[2]! == 401));
        Assert.Single(rows, r => (string)r[0]! == "security.authentication_throttled");
        Assert.All(rows, r => Assert.Equal("127.0.0.1", (string)r[1]!));
    }

    [Fact]
    public async Task Admin_calls_without_the_token_never_reach_a_handler()
    {
        using var noToken = new HttpClient { BaseAddress = new Uri(_pipeline.Ingress!.Url) };
        var attempts = new (string What, AuthenticationHeaderValue? Header)[]
        {
            ("no token", null),
            ("a tenant's API key", new AuthenticationHeaderValue("Bearer", _acmeKey)),
            ("the token with a character changed", new AuthenticationHeaderValue("Bearer", Pipeline.AdminToken[..^1] + "x")),
            ("a prefix of the token", new AuthenticationHeaderValue("Bearer", Pipeline.AdminToken[..8])),
        };
        foreach (var (what, header) in attempts)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/flags")
            {
                Content = new StringContent("""{"action":"emergency_shutdown"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = header;
            using var response = await noToken.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode}");
        }

        using var admin = _pipeline.AdminClient();
        var flags = await admin.GetFromJsonAsync<JsonElement>("/admin/flags");
        Assert.False(flags.GetProperty("break_glass").GetProperty("emergency_shutdown").GetBoolean());

        // The comparison itself: fixed-length hashes compared with CryptographicOperations.FixedTimeEquals.
        Assert.True(AdminAuthenticationHandler.IsAdminToken(Pipeline.AdminToken, Pipeline.AdminToken));
        Assert.False(AdminAuthenticationHandler.IsAdminToken(Pipeline.AdminToken[..^1], Pipeline.AdminToken));
        Assert.False(AdminAuthenticationHandler.IsAdminToken(Pipeline.AdminToken + "x", Pipeline.AdminToken));
        Assert.False(AdminAuthenticationHandler.IsAdminToken(string.Empty, string.Empty));
        Assert.False(AdminAuthenticationHandler.IsAdminToken(Pipeline.AdminToken, null));
    }

    [Fact]
    public async Task Sql_injection_in_every_string_field_changes_nothing()
    {
        string[] injections = ["';DROP/**/TABLE/**/ingress.tenants;--", "\"OR\"1\"=\"1", "x');DELETE/**/FROM/**/signer.sign_results;--", "$$;SELECT/**/pg_sleep(5);$$"];
        using var admin = _pipeline.AdminClient();
        var tablesBefore = await Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('ingress', 'signer', 'audit')");
        var tenantsBefore = await Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM ingress.tenants");

        foreach (var injection in injections)
        {
            // Where the syntax forbids it: a 400, nothing stored.
            Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = injection })).StatusCode);
            Assert.True((await admin.PostAsync($"/admin/tenants/{Uri.EscapeDataString(injection)}/disable", null)).StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest);
            Assert.Equal(HttpStatusCode.BadRequest, (await _acme.PostAsJsonAsync("/v1/sign", new { payload = "aGk=", format = injection })).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await _acme.GetAsync($"/v1/batches/{Uri.EscapeDataString(injection)}")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/admin/flags", new { action = "update", flag = "tenant_allowlist", value = new[] { injection } })).StatusCode);

            // Where it is allowed (visible ASCII): stored and returned as the literal text it is.
            using var sign = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "aGk=" }) };
            sign.Headers.Add("Idempotency-Key", injection);
            sign.Headers.Add("X-Client-Region", injection);
            Assert.Equal(HttpStatusCode.OK, (await _acme.SendAsync(sign)).StatusCode);
        }

        var submitted = await _acme.PostAsJsonAsync("/v1/batches", new { items = injections.Select((id, i) => new { id, payload = Convert.ToBase64String(new[] { (byte)i }) }) });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString()!;
        await Eventually.GetAsync(() => _acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}"), s => s.GetProperty("status").GetString() == "completed",
            TimeSpan.FromSeconds(20), "the batch with injected ids");
        var results = await _acme.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}/results");
        Assert.Equal(injections.Order(StringComparer.Ordinal), results.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));

        Assert.Equal(tablesBefore, await Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('ingress', 'signer', 'audit')"));
        Assert.Equal(tenantsBefore, await Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM ingress.tenants"));
        Assert.Equal(HttpStatusCode.OK, (await _acme.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" })).StatusCode);
        var verify = await admin.GetFromJsonAsync<JsonElement>("/admin/audit/verify");
        Assert.True(verify.GetProperty("verified").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task No_secret_appears_in_errors_metrics_or_the_audit_trail()
    {
        using var admin = _pipeline.AdminClient();
        var bodies = new List<string>();
        foreach (var response in new[]
        {
            await _pipeline.Ingress!.Http.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" }),
            await _acme.PostAsJsonAsync("/v1/sign", new { payload = "!!" }),
            await admin.PostAsJsonAsync("/admin/flags", new { action = "update", flag = "nope", value = 1 }),
            await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = "acme" }),
            await _acme.PostAsJsonAsync("/v1/sign", new { payload = "c2VjcmV0", format = "raw" }),
        })
        {
            bodies.Add(await response.Content.ReadAsStringAsync() + string.Join(' ', response.Headers.SelectMany(h => h.Value)));
            response.Dispose();
        }

        await Eventually.GetAsync(() => Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM audit.audit_trail"), n => n >= 3, TimeSpan.FromSeconds(20), "admin actions in the trail");
        await Eventually.GetAsync(() => Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM audit.sign_events WHERE event_type = 'edge_sign_success'"),
            n => n >= 1, TimeSpan.FromSeconds(20), "the signed request's audit rows");
        var trail = string.Join('\n', (await Sql.QueryAsync(_pipeline.Postgres, "SELECT t::text FROM audit.audit_trail t")).Select(r => (string)r[0]!));
        var events = string.Join('\n', (await Sql.QueryAsync(_pipeline.Postgres, "SELECT e::text FROM audit.sign_events e")).Select(r => (string)r[0]!));
        var metrics = string.Join('\n', await Task.WhenAll(new[] { _pipeline.Ingress, _pipeline.Workers[0], _pipeline.AuditSink! }
            .Select(h => h.Http.GetStringAsync("/metrics"))));
        var password = new Npgsql.NpgsqlConnectionStringBuilder(_pipeline.Postgres).Password!;
        foreach (var (where, text) in new[] { ("errors", string.Join('\n', bodies)), ("audit trail", trail), ("sign events", events), ("metrics", metrics) })
        {
            foreach (var secret in new[] { _acmeKey, _globexKey, Pipeline.AdminToken, "c2VjcmV0", "PRIVATE KEY", $"Password={password}" })
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }

            Assert.False(string.IsNullOrEmpty(text), $"{where} should not be empty");
        }
    }

    public async Task DisposeAsync()
    {
        _acme.Dispose();
        _globex.Dispose();
        await _pipeline.DisposeAsync();
    }
}
