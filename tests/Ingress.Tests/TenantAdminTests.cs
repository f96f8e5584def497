using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Ingress.Tests;

public sealed class TenantAdminTests(EmbeddedIngressFixture fixture) : IClassFixture<EmbeddedIngressFixture>
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData(EmbeddedIngressFixture.DevApiKey)]
    public async Task Admin_calls_without_the_admin_token_are_401(string? bearer)
    {
        using var client = fixture.Client(bearer);

        var response = await client.PostAsJsonAsync("/admin/tenants", new { tenant_id = "mallory" });

        await SignApiTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task A_tenant_gets_a_key_that_signs_and_stops_signing_when_revoked_or_disabled()
    {
        using var admin = fixture.Client(EmbeddedIngressFixture.AdminToken);
        var tenantId = "t-" + Guid.NewGuid().ToString("N")[..12];

        var created = await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = tenantId, rate_per_second = 50, burst = 100 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = tenantId })).StatusCode);

        var issued = await admin.PostAsync($"/admin/tenants/{tenantId}/keys", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var key = await issued.Content.ReadFromJsonAsync<JsonElement>();
        var apiKey = key.GetProperty("api_key").GetString()!;
        var keyId = key.GetProperty("key_id").GetString()!;

        using var tenant = fixture.Client(apiKey);
        var sign = await tenant.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" });
        Assert.Equal(HttpStatusCode.OK, sign.StatusCode);
        Assert.Equal(tenantId, (await sign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant_id").GetString());

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/tenants/{tenantId}/disable", null)).StatusCode);
        await SignApiTests.AssertProblemAsync(await tenant.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" }), HttpStatusCode.Forbidden, "tenant_disabled");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/admin/tenants/{tenantId}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" })).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/tenants/{tenantId}/keys/{keyId}")).StatusCode);
        await SignApiTests.AssertProblemAsync(await tenant.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" }), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Theory]
    [InlineData("{\"tenant_id\":\"Acme\"}")]
    [InlineData("{\"tenant_id\":\"-acme\"}")]
    [InlineData("{\"tenant_id\":\"acme\",\"rate_per_second\":-1}")]
    [InlineData("{\"tenant_id\":\"acme\",\"burst\":\"many\"}")]
    [InlineData("{}")]
    public async Task Invalid_tenants_are_400(string body)
    {
        using var admin = fixture.Client(EmbeddedIngressFixture.AdminToken);

        var response = await admin.PostAsync("/admin/tenants", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await SignApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Keys_for_an_unknown_tenant_are_404()
    {
        using var admin = fixture.Client(EmbeddedIngressFixture.AdminToken);
        await SignApiTests.AssertProblemAsync(await admin.PostAsync("/admin/tenants/nobody/keys", null), HttpStatusCode.NotFound, "not_found");
    }
}
