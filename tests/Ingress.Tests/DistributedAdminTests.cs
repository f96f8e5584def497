using System.Net;
using System.Net.Http.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Ingress.Tests;

public sealed class DistributedAdminTests
{
    [Fact]
    public async Task Without_an_admin_token_distributed_mode_refuses_every_admin_call()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:Admin:Token"] = null;
        var ingress = await pipeline.StartIngressAsync();

        foreach (var guess in new string?[] { null, string.Empty, "anything", Pipeline.AdminToken })
        {
            using var client = new HttpClient { BaseAddress = new Uri(ingress.Url) };
            if (guess is not null)
            {
                client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + guess);
            }

            var response = await client.PostAsJsonAsync("/admin/tenants", new { tenant_id = "acme" });
            await SignApiTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        }
    }
}
