using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The contract's error cases of <c>POST /v1/sign</c>, and a signature that verifies, in embedded mode.</summary>
public sealed class SignApiTests(EmbeddedIngressFixture fixture) : IClassFixture<EmbeddedIngressFixture>
{
    [Fact]
    public async Task The_dev_tenant_signs_and_the_signature_verifies_with_the_jwks()
    {
        using var client = fixture.Client(EmbeddedIngressFixture.DevApiKey);

        var response = await client.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String("embedded"u8) });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("dev", result.GetProperty("tenant_id").GetString());
        Assert.Equal("central-fallback", result.GetProperty("signing_mode").GetString());
        var key = (await Jwks.FetchAsync(client))[result.GetProperty("kid").GetString()!];
        Assert.True(key.VerifyData("embedded"u8.ToArray(), System.Buffers.Text.Base64Url.DecodeFromChars(result.GetProperty("signature").GetString()),
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("esk_unknown-key-0123456789abcdefghijkl")]
    [InlineData("short")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Missing_unknown_or_malformed_credentials_are_401_unauthenticated(string? bearer)
    {
        using var client = fixture.Client(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "aGk=" }) };
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", bearer.StartsWith("Basic", StringComparison.Ordinal) ? bearer : "Bearer " + bearer);
        }

        var response = await client.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "not valid JSON")]
    [InlineData("{\"payload\": 12}", "$.payload")]
    [InlineData("{\"payload\": \"aGk=\", \"fromat\": \"jws\"}", "not valid JSON")]
    [InlineData("{\"payload\": \"aGk=\", \"detached\": \"yes\"}", "$.detached")]
    [InlineData("{\"format\": \"raw\"}", "payload is required")]
    [InlineData("{\"payload\": \"a GVsbG8=\"}", "base64")]
    [InlineData("{\"payload\": \"aGVsbG8\"}", "base64")]
    [InlineData("{\"payload\": \"aGk=\", \"format\": \"xml\"}", "format must be")]
    [InlineData("null", "JSON object")]
    public async Task Bad_input_is_400_invalid_request_saying_what_is_wrong(string body, string detail)
    {
        using var client = fixture.Client(EmbeddedIngressFixture.DevApiKey);

        var response = await client.PostAsync("/v1/sign", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_idempotency_key_is_400()
    {
        using var client = fixture.Client(EmbeddedIngressFixture.DevApiKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "aGk=" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 256));

        await AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task A_decoded_payload_over_max_payload_size_is_413()
    {
        using var client = fixture.Client(EmbeddedIngressFixture.DevApiKey);
        var payload = Convert.ToBase64String(new byte[EmbeddedIngressFixture.MaxPayload + 1]);

        var response = await client.PostAsJsonAsync("/v1/sign", new { payload });

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Contains("1001 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var atLimit = await client.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(new byte[EmbeddedIngressFixture.MaxPayload]) });
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
    }

    [Fact]
    public async Task A_body_over_its_limit_is_413_whether_or_not_it_declares_its_length()
    {
        using var client = fixture.Client(EmbeddedIngressFixture.DevApiKey);
        var huge = "{\"payload\":\"" + new string('A', 200_000) + "\"}";

        var declared = await client.PostAsync("/v1/sign", new StringContent(huge, Encoding.UTF8, "application/json"));
        await AssertProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        // A chunked body has no Content-Length: Kestrel stops reading at the limit instead of buffering it all.
        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task Unknown_routes_are_problem_json_too()
    {
        using var client = fixture.Client(null);
        await AssertProblemAsync(await client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Health_and_readiness_answer()
    {
        using var client = fixture.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("masstransit", await ready.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string errorType)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(errorType, problem.GetProperty("error_type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("request_id", out var id) && id.GetString()!.Length > 0);
        var text = problem.ToString();
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal); // never a stack trace
        return problem;
    }
}
