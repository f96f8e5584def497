using System.Security.Cryptography;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Tests;

public sealed class SigningKeyRegistryTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edgesigner-keys-").FullName;
    private FakeKmsServer _kms = null!;

    public async Task InitializeAsync() => _kms = await FakeKmsServer.StartAsync();

    [Fact]
    public async Task Starts_when_the_kms_edge_key_and_the_local_central_key_are_the_same_key()
    {
        var keyFile = Path.Combine(_directory, "central.pem");
        using (var key = LocalKeyFile.LoadOrCreate(keyFile))
        {
            _kms.AddKey("edge", ECDsa.Create(key.ExportParameters(true)));
        }

        using var registry = Registry(Kms("edge", "eu-west-1"), Local(keyFile));
        await registry.StartingAsync(CancellationToken.None);

        Assert.True(registry.TryGet("k1", out var signingKey));
        Assert.Equal("eu-west-1", signingKey.Edge.Region);
        Assert.Equal(1, _kms.Calls.Count(c => c.Operation == "GetPublicKey"));
    }

    [Fact]
    public async Task Refuses_to_start_when_edge_and_central_hold_different_keys()
    {
        _kms.AddKey("other", ECDsa.Create(ECCurve.NamedCurves.nistP256));
        using var registry = Registry(Kms("other", "eu-west-1"), Local(Path.Combine(_directory, "central.pem")));

        var error = await Assert.ThrowsAsync<EdgeSigner.ServiceDefaults.InvalidSettingException>(() => registry.StartingAsync(CancellationToken.None));
        Assert.Contains("different public keys", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("EdgeSigner:Signing:Keys:0:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validation_names_the_setting_that_is_wrong()
    {
        var options = new SigningOptions
        {
            Keys = [new SigningKeyOptions { Kid = "k1", Edge = new SignerBackendOptions { Backend = SignerBackendKind.Kms }, Central = Local("x.pem") }],
        };

        var result = new SigningOptionsValidator(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = _directory }).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("EdgeSigner:Signing:Keys:0:Edge:KmsKeyId is required", result.FailureMessage, StringComparison.Ordinal);
    }

    private SigningKeyRegistry Registry(SignerBackendOptions edge, SignerBackendOptions central) => new(
        Options.Create(new SigningOptions
        {
            Keys = [new SigningKeyOptions { Kid = "k1", Edge = edge, Central = central }],
            Kms = new KmsOptions { ServiceUrl = _kms.Url, AccessKeyId = "test", SecretAccessKey = "test", MaxErrorRetry = 0 },
        }),
        new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = _directory },
        NullLogger<SigningKeyRegistry>.Instance);

    private static SignerBackendOptions Kms(string keyId, string region) => new() { Backend = SignerBackendKind.Kms, KmsKeyId = keyId, Region = region };

    private static SignerBackendOptions Local(string file) => new() { Backend = SignerBackendKind.Local, KeyFile = file, Region = "local" };

    public async Task DisposeAsync()
    {
        await _kms.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
