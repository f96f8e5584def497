using System.Security.Cryptography;
using Amazon;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.Testing;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>The KMS backend through the real AWS SDK against the KMS-compatible server on loopback.</summary>
public sealed class KmsSignerTests : IAsyncLifetime
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private FakeKmsServer _kms = null!;
    private AmazonKeyManagementServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        _kms = await FakeKmsServer.StartAsync();
        _kms.AddKey("edge-key", ECDsa.Create(_key.ExportParameters(true)));
        _client = new AmazonKeyManagementServiceClient(new BasicAWSCredentials("test", "test"), new AmazonKeyManagementServiceConfig
        {
            ServiceURL = _kms.Url,
            AuthenticationRegion = "eu-west-1",
            MaxErrorRetry = 0,
        });
    }

    [Fact]
    public async Task Signs_the_digest_with_message_type_digest_and_the_signature_verifies()
    {
        var signer = new KmsSigner(_client, "edge-key", "eu-west-1");
        var digest = SHA256.HashData("payload"u8);

        var der = await signer.SignDigestAsync(digest, CancellationToken.None);

        Assert.True(_key.VerifyHash(digest, der, DSASignatureFormat.Rfc3279DerSequence));
        Assert.True(_key.VerifyHash(digest, EcdsaSignature.DerToRs(der), DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var call = Assert.Single(_kms.Calls, c => c.Operation == "Sign");
        Assert.Equal(("edge-key", "DIGEST", "ECDSA_SHA_256", 32), (call.KeyId, call.MessageType, call.SigningAlgorithm, call.MessageLength));
    }

    [Fact]
    public async Task The_public_key_is_the_servers()
    {
        var signer = new KmsSigner(_client, "edge-key", "eu-west-1");

        var spki = await signer.GetPublicKeyAsync(CancellationToken.None);

        Assert.Equal(_key.ExportSubjectPublicKeyInfo(), spki);
    }

    [Fact]
    public async Task An_unknown_key_surfaces_the_sdk_error_code()
    {
        var signer = new KmsSigner(_client, "no-such-key", "eu-west-1");

        var error = await Assert.ThrowsAsync<Amazon.KeyManagementService.Model.NotFoundException>(
            () => signer.SignDigestAsync(SHA256.HashData("x"u8), CancellationToken.None));
        Assert.Equal("NotFoundException", error.ErrorCode);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _kms.DisposeAsync();
        _key.Dispose();
    }
}
