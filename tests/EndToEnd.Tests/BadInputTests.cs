using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CsCheck;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// Issue 10's bad-input suite: generated malformed requests (CsCheck) against the ingress's signing, batch and admin
/// API. Every one must get a 4xx problem+json with an <c>error_type</c>, none a 5xx, and the service must stay
/// healthy and sign the next good request.
/// </summary>
public sealed class BadInputTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private Pipeline _pipeline = null!;
    private HttpClient _acme = null!;
    private HttpClient _admin = null!;

    public sealed record BadRequest(string Category, string Path, bool Admin, string? Body, string? ContentType = "application/json",
        (string Name, string Value)? Header = null);

    private static readonly string[] Paths = ["/v1/sign", "/v1/batches"];

    private static readonly Gen<string> Junk = Gen.OneOf(
        Gen.String,
        Gen.Char.Array[0, 40].Select(c => new string(c)),
        Gen.OneOf("\u0000", "\u202e\u202d", "😀🔥", "\r\n\t", "' OR 1=1 --", "</script>", "%00", new string('x', 300), "null", "{}", "[]"));

    /// <summary>A JSON value of the wrong kind for a field that wants a string.</summary>
    private static readonly Gen<string> WrongType = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
        Gen.OneOf("true", "false", "null", "[]", "{}", "[1,2,3]", "{\"a\":1}", "-9223372036854775809", "1e309", "-1"));

    private static string Str(string s) => JsonSerializer.Serialize(s);

    public static readonly Gen<BadRequest> Requests = Gen.OneOf(
        // Broken JSON: a valid body cut short, random text, random bytes as Latin-1.
        Gen.Select(Gen.Int[1, 36], Gen.OneOf(Paths), (cut, path) =>
            new BadRequest("broken json", path, false, """{"payload":"aGVsbG8=","format":"raw"}"""[..cut])),
        Gen.Select(Junk, Gen.OneOf(Paths), (junk, path) => new BadRequest("not json", path, false, junk)),
        // Deeply nested JSON.
        Gen.Select(Gen.Int[65, 5000], Gen.OneOf(Paths), (depth, path) =>
            new BadRequest("deep json", path, false, new string('[', depth) + new string(']', depth))),
        Gen.Int[65, 3000].Select(depth => new BadRequest("deep json", "/v1/sign", false,
            """{"payload":""" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}")),
        // Wrong types, huge and negative numbers.
        Gen.Select(WrongType, Gen.OneOf("payload", "format", "detached"), (value, field) => (Value: value, Field: field))
            .Where(v => v.Field == "payload" || v.Value is not ("true" or "false" or "null")) // a bool or null is right for those two
            .Select(v => new BadRequest("wrong type", "/v1/sign", false,
                v.Field == "payload" ? $$"""{"payload":{{v.Value}}}""" : $$"""{"payload":"aGVsbG8=","{{v.Field}}":{{v.Value}}}""")),
        Gen.Select(WrongType, Gen.OneOf("items", "id", "payload"), (value, field) =>
            new BadRequest("wrong type", "/v1/batches", false, field == "items" ? $$"""{"items":{{value}}}""" : $$"""{"items":[{"id":"a","payload":"aGVsbG8=","{{field}}":{{value}}}]}""")),
        // Invalid and whitespace-laden base64.
        Gen.Select(Gen.OneOf("aGVs bG8=", " aGVsbG8=", "aGVsbG8=\n", "aGVsbG8", "a===", "====", "!!!!", "aGVsbG8=aGVsbG8=", "YQ", "Y", "\taGk=", "aGk=\u0000"),
            Gen.OneOf(Paths), (b64, path) => new BadRequest("bad base64", path, false,
                path == "/v1/sign" ? $$"""{"payload":{{Str(b64)}}}""" : $$"""{"items":[{"id":"a","payload":{{Str(b64)}}}]}""")),
        // Unknown formats and unknown fields.
        Gen.Select(Junk.Where(j => j is not ("raw" or "jws" or "cose")), Gen.Bool, (format, batch) => new BadRequest("unknown format",
            batch ? "/v1/batches" : "/v1/sign", false,
            batch ? $$"""{"items":[{"id":"a","payload":"aGVsbG8=","format":{{Str(format)}}}]}""" : $$"""{"payload":"aGVsbG8=","format":{{Str(format)}}}""")),
        Gen.Select(Gen.Char['a', 'z'].Array[1, 12].Select(c => new string(c)), name => new BadRequest("unknown field", "/v1/sign", false,
            $$"""{"payload":"aGVsbG8=","x_{{name}}":1}""")),
        // Unicode and control characters in ids; empty, duplicate and too many items.
        Gen.Select(Gen.OneOf("\u0000", "a\u0001b", "\u202e", "line\nbreak", "", " ", new string('i', 256), "tab\tid", "\u007f"), id =>
            new BadRequest("bad item id", "/v1/batches", false, $$"""{"items":[{"id":{{Str(id)}},"payload":"aGVsbG8="}]}""")),
        Gen.OneOf(
            new BadRequest("no items", "/v1/batches", false, """{"items":[]}"""),
            new BadRequest("duplicate ids", "/v1/batches", false, """{"items":[{"id":"a","payload":"aGk="},{"id":"a","payload":"aGk="}]}"""),
            new BadRequest("empty body", "/v1/sign", false, string.Empty),
            new BadRequest("no payload", "/v1/sign", false, """{"format":"raw"}"""),
            new BadRequest("form body", "/v1/sign", false, "payload=aGk=", "application/x-www-form-urlencoded")),
        // Oversized payloads (over the 32 KiB limit) and bodies (over what any payload needs).
        Gen.Int[32_769, 40_000].Select(n => new BadRequest("oversized payload", "/v1/sign", false, $$"""{"payload":"{{Convert.ToBase64String(new byte[n])}}"}""")),
        Gen.Int[50_000, 200_000].Select(n => new BadRequest("oversized body", "/v1/sign", false, $$"""{"payload":"aGk=","format":"raw","pad":"{{new string(' ', n)}}"}""")),
        // Headers the service reads: Idempotency-Key and X-Client-Region out of their syntax.
        Gen.Select(Gen.OneOf(new string('k', 256), "has space", "tab\tkey", "a\u007fb"), key =>
            new BadRequest("bad idempotency key", "/v1/sign", false, """{"payload":"aGk="}""", Header: ("Idempotency-Key", key))),
        Gen.Select(Gen.OneOf("not a region", new string('r', 100), "eu-west-1; DROP TABLE x", "tab\tregion"), region =>
            new BadRequest("bad region", "/v1/sign", false, """{"payload":"aGk="}""", Header: ("X-Client-Region", region))),
        // The admin API: tenants and flags with broken values.
        Gen.Select(Gen.OneOf(Junk.Select(Str), WrongType), value => new BadRequest("admin tenant", "/admin/tenants", true, $$"""{"tenant_id":{{value}}}""")),
        Gen.Select(Gen.Int, Gen.Int, (rate, burst) => new BadRequest("admin tenant limits", "/admin/tenants", true,
            $$"""{"tenant_id":"t{{(uint)rate % 1000}}","rate_per_second":{{(rate > 0 ? -rate : rate)}},"burst":{{burst}}}""")),
        Gen.Select(Gen.OneOf("update", "emergency_shutdown", "nonsense", ""), Gen.OneOf("max_payload_size", "kms_timeout_ms", "tenant_allowlist", "edge_signer_enabled", "no_such_flag"),
            WrongType, (action, flag, value) => new BadRequest("admin flag", "/admin/flags", true, $$"""{"action":{{Str(action)}},"flag":{{Str(flag)}},"value":{{value}},"tenant":[]}""")));

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        _pipeline.Settings["EdgeSigner:RateLimits:DefaultRatePerSecond"] = "100000"; // the tenant's own limit is not what is tested
        _pipeline.Settings["EdgeSigner:RateLimits:DefaultBurst"] = "100000";
        await _pipeline.StartAuditSinkAsync();
        await _pipeline.StartWorkerAsync();
        await _pipeline.StartIngressAsync();
        _acme = await _pipeline.CreateTenantClientAsync("acme");
        using (var admin = _pipeline.AdminClient())
        {
            // Generated admin calls create tenants now and then; keep the tenants' own limits out of the way.
            (await admin.PostAsJsonAsync("/admin/flags", new { action = "update", flag = "tenant_allowlist", value = Array.Empty<string>() })).EnsureSuccessStatusCode();
        }

        _admin = _pipeline.AdminClient();
    }

    [Fact]
    public async Task Six_hundred_generated_bad_requests_each_get_a_4xx_problem_and_the_service_stays_correct()
    {
        var requests = new List<BadRequest>();
        Requests.Sample(r => requests.Add(r), iter: 600, threads: 1);
        Assert.Equal(600, requests.Count);

        var failures = new List<string>();
        var categories = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var bad in requests)
        {
            categories[bad.Category] = categories.GetValueOrDefault(bad.Category) + 1;
            using var message = new HttpRequestMessage(HttpMethod.Post, bad.Path);
            if (bad.Body is not null)
            {
                message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(bad.Body));
                message.Content.Headers.ContentType = bad.ContentType is null ? null : MediaTypeHeaderValue.Parse(bad.ContentType);
            }

            if (bad.Header is { } header)
            {
                message.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }

            using var response = await (bad.Admin ? _admin : _acme).SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (bad.Category is "admin tenant" or "admin tenant limits" && status is 201 or 200 or 409)
            {
                continue; // a generated tenant id can be valid (and then be created, or exist): not a bad input after all
            }

            if (bad.Category is "bad idempotency key" or "bad region" && status == 200)
            {
                failures.Add($"{bad.Category}: accepted ({bad.Header})");
                continue;
            }

            if (status is < 400 or >= 500)
            {
                failures.Add($"{bad.Category}: {status} for {Shorten(bad.Body)} {bad.Header}");
                continue;
            }

            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{bad.Category}: {status} with {response.Content.Headers.ContentType} for {Shorten(bad.Body)}");
                continue;
            }

            using var problem = JsonDocument.Parse(body);
            if (!problem.RootElement.TryGetProperty("error_type", out var errorType) || errorType.GetString() is not { Length: > 0 })
            {
                failures.Add($"{bad.Category}: {status} without error_type: {Shorten(body)}");
            }

            if (body.Contains("   at ", StringComparison.Ordinal) || body.Contains("Exception", StringComparison.Ordinal))
            {
                failures.Add($"{bad.Category}: a stack trace or exception name in {Shorten(body)}");
            }
        }

        output.WriteLine(string.Join(", ", categories.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}: {c.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests.Count} bad requests were not refused properly:\n" + string.Join('\n', failures.Take(30)));
        Assert.True(categories.Count >= 15, "the generator should cover every category");

        // Still healthy and correct: ready, and the next good request is signed and verifies.
        Assert.Equal(HttpStatusCode.OK, (await _pipeline.Ingress!.Http.GetAsync("/readyz")).StatusCode);
        var signed = await _acme.PostAsJsonAsync("/v1/sign", new { payload = "Z29vZA==", format = "raw" });
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        var result = await signed.Content.ReadFromJsonAsync<JsonElement>();
        var key = (await Jwks.FetchAsync(_pipeline.Ingress.Http))[Pipeline.Kid];
        Assert.True(key.VerifyData("good"u8, Convert.FromBase64String(result.GetProperty("signature_der").GetString()!), System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Headers_over_kestrels_limits_are_refused_with_a_4xx_and_the_service_carries_on()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/sign") { Content = JsonContent.Create(new { payload = "aGk=" }) };
        message.Headers.TryAddWithoutValidation("X-Padding", new string('h', 64 * 1024));
        using var response = await _acme.SendAsync(message);

        // Kestrel answers this itself (431) before any EdgeSigner code runs, so there is no problem body to give.
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _acme.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" })).StatusCode);
    }

    [Fact]
    public async Task A_body_slower_than_kestrels_minimum_rate_is_cut_off_with_a_4xx()
    {
        // Headers promise 10,000 bytes; 20 arrive, then nothing. Kestrel's minimum data rate (240 bytes/s after a
        // 5 s grace) gives up on the body; the ingress answers with a problem, not a 5xx, and is not stuck.
        var url = new Uri(_pipeline.Ingress!.Url);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var stream = tcp.GetStream();
        var apiKey = _acme.DefaultRequestHeaders.Authorization!.Parameter;
        var head = $"POST /v1/sign HTTP/1.1\r\nHost: {url.Authority}\r\nAuthorization: Bearer {apiKey}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{{\"payload\":\"aGVsbG";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        var answer = Encoding.ASCII.GetString(buffer, 0, read);
        output.WriteLine(answer);
        Assert.Matches(@"^HTTP/1\.1 4\d\d ", answer);
        Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _acme.PostAsJsonAsync("/v1/sign", new { payload = "aGk=" })).StatusCode);
    }

    private static string Shorten(string? text) => text is null ? "(no body)" : text.Length <= 120 ? text : text[..120] + $"... ({text.Length} chars)";

    public async Task DisposeAsync()
    {
        _acme.Dispose();
        _admin.Dispose();
        await _pipeline.DisposeAsync();
    }
}
