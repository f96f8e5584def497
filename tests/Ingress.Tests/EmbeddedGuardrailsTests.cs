using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>
/// The one-command mode shows the seed's guardrails without KMS: the local key's breaker, its budget and its
/// quota view (region <c>local</c>), and their series on <c>/metrics</c>.
/// </summary>
public sealed class EmbeddedGuardrailsTests(EmbeddedIngressFixture fixture) : IClassFixture<EmbeddedIngressFixture>
{
    [Fact]
    public async Task The_local_backend_has_a_breaker_a_budget_and_a_quota_view()
    {
        using var admin = fixture.Client(EmbeddedIngressFixture.AdminToken);
        using var tenant = fixture.Client(EmbeddedIngressFixture.DevApiKey);

        // The breaker is listed, closed, for the embedded worker, before anything was signed.
        var breakers = await Eventually.GetAsync(() => admin.GetFromJsonAsync<JsonElement>("/admin/circuit-breaker"),
            b => b.GetProperty("workers").GetArrayLength() == 1, what: "the embedded worker's breaker report");
        var breaker = Assert.Single(breakers.GetProperty("breakers").EnumerateArray());
        Assert.Equal(("local", "CLOSED"), (breaker.GetProperty("region").GetString(), breaker.GetProperty("state").GetString()));

        (await tenant.PostAsJsonAsync("/v1/sign", new { payload = "Z3VhcmRyYWlscw==" })).EnsureSuccessStatusCode();

        var quota = await Eventually.GetAsync(() => admin.GetFromJsonAsync<JsonElement>("/admin/quota"),
            q => q.GetProperty("regions").EnumerateArray().Any(r => r.GetProperty("region").GetString() == "local"
                && r.GetProperty("current_usage").GetProperty("daily_requests").GetInt64() >= 1),
            what: "region local in /admin/quota with today's signature");
        var local = quota.GetProperty("regions").EnumerateArray().Single(r => r.GetProperty("region").GetString() == "local");
        Assert.Equal(300, local.GetProperty("quota_per_second").GetDouble()); // the budget's default rate

        var metrics = await PrometheusText.ScrapeAsync(fixture.Host.Url);
        Assert.Contains(metrics, s => s.Name == "edgesigner_kms_budget_per_second" && s["region"] == "local" && s.Value == 300);
        Assert.Contains(metrics, s => s.Name == "edgesigner_circuit_breaker_state" && s["region"] == "local" && s.Value == 0);
        Assert.Contains(metrics, s => s.Name == "edgesigner_kms_requests_total" && s["region"] == "local" && s["outcome"] == "success" && s.Value >= 1);
        Assert.Contains(metrics, s => s.Name == "edgesigner_kms_cost_usd_total" && s.Value == 0); // a key file costs nothing
    }
}
