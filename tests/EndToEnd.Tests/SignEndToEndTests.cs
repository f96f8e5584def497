using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Text;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// <c>POST /v1/sign</c> through real RabbitMQ, the worker, the KMS-compatible server via the AWS SDK, and the sink
/// into real PostgreSQL: each result is verified independently against <c>/v1/keys</c> and its audit rows read back.
/// </summary>
public sealed class SignEndToEndTests(SigningPipelineFixture fixture) : IClassFixture<SigningPipelineFixture>
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("release-artifact-1.4.2.tar.gz sha256=...\n\u00e9");

    [Theory]
    [InlineData("raw", false)]
    [InlineData("jws", false)]
    [InlineData("jws", true)]
    [InlineData("cose", false)]
    [InlineData("cose", true)]
    public async Task A_signed_result_verifies_against_the_jwks_and_its_audit_rows_are_in_postgres(string format, bool detached)
    {
        var kmsSignsBefore = fixture.Pipeline.Kms.SignCalls;

        var response = await fixture.Acme.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(Payload), format, detached });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var kid = result.GetProperty("kid").GetString()!;
        Assert.Equal(Pipeline.Kid, kid);
        Assert.Equal("ES256", result.GetProperty("alg").GetString());
        Assert.Equal("central-fallback", result.GetProperty("signing_mode").GetString());
        Assert.Equal("eu-central-1", result.GetProperty("region").GetString());
        Assert.Equal("acme", result.GetProperty("tenant_id").GetString());
        Assert.Equal(kmsSignsBefore + 1, fixture.Pipeline.Kms.SignCalls);

        var keys = await Jwks.FetchAsync(fixture.Pipeline.Ingress!.Http);
        var key = keys[kid];
        var rs = System.Buffers.Text.Base64Url.DecodeFromChars(result.GetProperty("signature").GetString());
        var der = Convert.FromBase64String(result.GetProperty("signature_der").GetString()!);
        var tbs = IndependentTbs(format, kid, result);
        Assert.True(key.VerifyData(tbs, rs, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.True(key.VerifyData(tbs, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tbs)), result.GetProperty("tbs_hash").GetString());

        switch (format)
        {
            case "jws":
                var jws = result.GetProperty("jws").GetString()!;
                var verified = detached ? Jose.JWT.DecodeBytes(jws, key, payload: Payload) : Jose.JWT.DecodeBytes(jws, key);
                Assert.Equal(Payload, verified);
                Assert.Equal(detached, jws.Contains("..", StringComparison.Ordinal));
                break;
            case "cose":
                var message = CoseMessage.DecodeSign1(Convert.FromBase64String(result.GetProperty("cose").GetString()!));
                Assert.True(detached ? message.VerifyDetached(key, Payload) : message.VerifyEmbedded(key));
                break;
        }

        var requestId = result.GetProperty("request_id").GetGuid();
        var rows = await Eventually.GetAsync(
            () => AuditRows.ForRequestAsync(fixture.Pipeline.Postgres, requestId), r => r.Count >= 2, what: "the attempt and success rows");
        Assert.Equal(["edge_sign_attempt", "edge_sign_success"], rows.Select(r => r.EventType).Order());
        var success = rows.Single(r => r.EventType == "edge_sign_success");
        Assert.Equal(("acme", "central-fallback", Pipeline.CentralKmsKeyId, "eu-central-1", Pipeline.Kid, format, Payload.Length),
            (success.TenantId, success.SigningMode, success.KmsKeyId, success.KmsRegion, success.Kid, success.Format, success.PayloadSize));
        Assert.Equal(result.GetProperty("tbs_hash").GetString(), success.TbsHash);
        Assert.True(success.Success);
        Assert.True(success.TKmsMs > 0, "t_kms_ms is measured");
        Assert.True(success.TTotalMs >= success.TKmsMs, "t_total_ms includes t_kms_ms");
    }

    [Fact]
    public async Task The_payload_never_reaches_the_audit_store()
    {
        var marker = "secret-payload-" + Guid.NewGuid().ToString("N");
        var response = await fixture.Acme.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(marker)) });
        var requestId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetGuid();
        await Eventually.GetAsync(() => AuditRows.ForRequestAsync(fixture.Pipeline.Postgres, requestId), r => r.Count >= 2);

        await using var connection = new Npgsql.NpgsqlConnection(fixture.Pipeline.Postgres);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM audit.sign_events e WHERE e::text LIKE '%' || @marker || '%'", connection);
        command.Parameters.AddWithValue("marker", marker);
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_auditors_endpoints_verify_the_trail_and_report_the_month()
    {
        var signed = await fixture.Acme.PostAsJsonAsync("/v1/sign", new { payload = "YXVkaXRlZA==" });
        var requestId = (await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetGuid();
        await Eventually.GetAsync(() => AuditRows.ForRequestAsync(fixture.Pipeline.Postgres, requestId), r => r.Count >= 2);
        using var admin = fixture.Pipeline.AdminClient();

        var verify = await admin.GetFromJsonAsync<JsonElement>("/admin/audit/verify");
        Assert.True(verify.GetProperty("verified").GetBoolean());
        Assert.True(verify.GetProperty("rows_checked").GetInt64() >= 2); // at least the tenant's creation and key

        var period = DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var report = await admin.GetFromJsonAsync<JsonElement>($"/admin/reports/compliance?period={period}");
        Assert.Equal(period, report.GetProperty("period").GetString());
        Assert.True(report.GetProperty("successful_signs").GetInt64() >= 1);
        Assert.Equal("COMPLIANT", report.GetProperty("compliance_status").GetString());

        var bad = await admin.GetAsync("/admin/reports/compliance?period=2026-13");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    /// <summary>The TBS each format signs, built here from the RFCs, not with the service's builders.</summary>
    private static byte[] IndependentTbs(string format, string kid, JsonElement result)
    {
        switch (format)
        {
            case "raw":
                return Payload;
            case "jws":
                var header = result.GetProperty("jws").GetString()!.Split('.')[0];
                Assert.Equal($"{{\"alg\":\"ES256\",\"kid\":\"{kid}\"}}", Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(header)));
                return Encoding.ASCII.GetBytes(header + "." + System.Buffers.Text.Base64Url.EncodeToString(Payload));
            default:
                var message = CoseMessage.DecodeSign1(Convert.FromBase64String(result.GetProperty("cose").GetString()!));
                var writer = new System.Formats.Cbor.CborWriter();
                writer.WriteStartArray(4);
                writer.WriteTextString("Signature1");
                writer.WriteByteString(message.RawProtectedHeaders.Span);
                writer.WriteByteString([]);
                writer.WriteByteString(Payload);
                writer.WriteEndArray();
                return writer.Encode();
        }
    }
}
