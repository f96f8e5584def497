using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

public sealed class ApiKeyCacheTests
{
    private static readonly TenantCredential Acme = new("acme", "key-1", Disabled: false, RatePerSecond: null, Burst: null);

    [Fact]
    public void A_verified_key_is_held_until_it_expires_or_its_tenant_is_evicted()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 2, 28, 23, 59, 55, TimeSpan.Zero));
        var cache = new ApiKeyCache(clock, Options.Create(new SignApiOptions { ApiKeyCacheSeconds = 10 }));

        cache.Add("hash-a", Acme, cache.Generation);
        Assert.Equal(Acme, cache.Find("hash-a"));

        clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(Acme, cache.Find("hash-a"));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Null(cache.Find("hash-a")); // ten seconds: looked up again

        cache.Add("hash-a", Acme, cache.Generation);
        cache.Add("hash-b", Acme with { TenantId = "globex" }, cache.Generation);
        cache.Evict("acme");
        Assert.Null(cache.Find("hash-a"));
        Assert.Equal("globex", cache.Find("hash-b")?.TenantId); // another tenant's key stays
    }

    [Fact]
    public void What_a_lookup_read_before_an_eviction_is_not_cached()
    {
        var cache = new ApiKeyCache(TimeProvider.System, Options.Create(new SignApiOptions()));
        var startedAt = cache.Generation; // the lookup starts, reads the row...
        cache.Evict("acme"); // ...meanwhile the key is revoked on another instance
        cache.Add("hash-a", Acme, startedAt);

        Assert.Null(cache.Find("hash-a"));
    }

    [Fact]
    public void A_cache_time_of_zero_caches_nothing()
    {
        var cache = new ApiKeyCache(TimeProvider.System, Options.Create(new SignApiOptions { ApiKeyCacheSeconds = 0 }));
        cache.Add("hash-a", Acme, cache.Generation);

        Assert.Null(cache.Find("hash-a"));
    }

    [Fact]
    public async Task A_revoked_key_and_a_disabled_tenant_are_refused_by_every_instance_within_a_second()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:Api:ApiKeyCacheSeconds"] = "300"; // only the fan-out can make the change felt in time
        var first = await pipeline.StartIngressAsync();
        var second = await pipeline.StartIngressAsync();
        using var admin = pipeline.AdminClient(first);
        var apiKey = await Pipeline.CreateTenantAsync(admin, "acme");
        var spare = await (await admin.PostAsync("/admin/tenants/acme/keys", null)).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        using var onFirst = Pipeline.TenantClient(apiKey, first);
        using var onSecond = Pipeline.TenantClient(apiKey, second);
        using var spareOnSecond = Pipeline.TenantClient(spare.GetProperty("api_key").GetString()!, second);

        // Authenticated (a tenant's view of a batch it does not have) on both instances: now cached on both.
        foreach (var client in new[] { onFirst, onSecond, spareOnSecond })
        {
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client));
        }

        (await admin.PostAsync("/admin/tenants/acme/disable", null)).EnsureSuccessStatusCode();
        await WithinASecondAsync(onSecond, HttpStatusCode.Forbidden, "the disabled tenant refused by the other instance");
        await WithinASecondAsync(spareOnSecond, HttpStatusCode.Forbidden, "the tenant's other key refused too");

        (await admin.PostAsync("/admin/tenants/acme/enable", null)).EnsureSuccessStatusCode();
        await WithinASecondAsync(onSecond, HttpStatusCode.NotFound, "the enabled tenant served again by the other instance");

        (await admin.DeleteAsync($"/admin/tenants/acme/keys/{spare.GetProperty("key_id").GetString()}")).EnsureSuccessStatusCode();
        await WithinASecondAsync(spareOnSecond, HttpStatusCode.Unauthorized, "the revoked key refused by the other instance");
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(onSecond)); // the tenant's other key still works
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(onFirst));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client)
    {
        using var response = await client.GetAsync($"/v1/batches/{Guid.NewGuid()}");
        return response.StatusCode;
    }

    private static async Task WithinASecondAsync(HttpClient client, HttpStatusCode expected, string what)
    {
        var watch = Stopwatch.StartNew();
        var status = await Eventually.GetAsync(() => StatusAsync(client), s => s == expected, TimeSpan.FromSeconds(5), what);
        Assert.Equal(expected, status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"{what}: took {watch.Elapsed.TotalMilliseconds:F0} ms, more than a second");
    }
}
