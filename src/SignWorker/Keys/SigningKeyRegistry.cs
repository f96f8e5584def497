using Amazon;
using Amazon.KeyManagementService;
using System.Security.Cryptography;
using Amazon.Runtime;
using EdgeSigner.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>
/// Builds every configured key's backends when the host starts, fetches both public keys, and refuses to start
/// when the edge and central backends of a key disagree: a kid must always name exactly one public key.
/// </summary>
public sealed class SigningKeyRegistry(
    IOptions<SigningOptions> options,
    IHostEnvironment environment,
    ILogger<SigningKeyRegistry> logger) : IHostedLifecycleService, IDisposable
{
    private readonly Dictionary<string, AmazonKeyManagementServiceClient> _kmsClients = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _owned = [];
    private Dictionary<string, SigningKey> _keys = new(StringComparer.Ordinal);

    public string ActiveKid => options.Value.EffectiveActiveKid;

    public IReadOnlyCollection<SigningKey> Keys => _keys.Values;

    public bool TryGet(string kid, out SigningKey key) => _keys.TryGetValue(kid, out key!);

    /// <summary>The key of <paramref name="kid"/>, or null.</summary>
    public SigningKey? Find(string kid) => _keys.GetValueOrDefault(kid);

    /// <summary>Loads the keys before anything else of the host starts (consumers, Kestrel).</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        for (var i = 0; i < options.Value.Keys.Count; i++)
        {
            var keyOptions = options.Value.Keys[i];
            var setting = $"{SigningOptions.SectionName}:Keys:{i}";
            var edge = CreateBackend(keyOptions.Edge, $"{setting}:Edge");
            var replicas = keyOptions.EdgeReplicas.Select((r, n) => CreateBackend(r, $"{setting}:EdgeReplicas:{n}")).ToList();
            var central = CreateBackend(keyOptions.Central, $"{setting}:Central");
            var centralKey = await PublicKeyAsync(central, $"{setting}:Central", cancellationToken);
            foreach (var (backend, n) in replicas.Prepend(edge).Select((b, n) => (b, n)))
            {
                var edgeKey = await PublicKeyAsync(backend, n == 0 ? $"{setting}:Edge" : $"{setting}:EdgeReplicas:{n - 1}", cancellationToken);
                if (!edgeKey.AsSpan().SequenceEqual(centralKey))
                {
                    throw new InvalidSettingException(
                        $"{setting}: key '{keyOptions.Kid}': the edge backend ({backend.Region}, {backend.KeyId}) and the central backend " +
                        $"({central.Region}, {central.KeyId}) hold different public keys; a kid must name exactly one public key.");
                }
            }

            var key = new SigningKey(keyOptions.Kid, edge, replicas, central, centralKey, keyOptions.FallbackOnConfigurationError);
            _owned.Add(key);
            keys[keyOptions.Kid] = key;
            logger.LogInformation("Signing key {Kid} ({Fingerprint}): edge {EdgeRegion}, central {CentralRegion}; public keys match",
                keyOptions.Kid, key.Fingerprint, edge.Region, central.Region);
        }

        _keys = keys;
    }

    /// <summary>A backend's public key; what stops it (no such KMS key, KMS unreachable) is reported against its setting.</summary>
    private static async Task<byte[]> PublicKeyAsync(ISignerBackend backend, string setting, CancellationToken cancellationToken)
    {
        try
        {
            return await backend.GetPublicKeyAsync(cancellationToken);
        }
        catch (AmazonServiceException ex)
        {
            throw new InvalidSettingException($"{setting}:KmsKeyId '{backend.KeyId}' in {backend.Region}: KMS answered {ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or AmazonClientException)
        {
            throw new InvalidSettingException($"{setting}: KMS in {backend.Region} could not be reached for key '{backend.KeyId}' ({ex.Message}); check {SigningOptions.SectionName}:Kms:ServiceUrl and the network.", ex);
        }
    }

    private ISignerBackend CreateBackend(SignerBackendOptions backend, string setting)
    {
        switch (backend.Backend)
        {
            case SignerBackendKind.Kms:
                return new KmsSigner(KmsClient(backend.Region), backend.KmsKeyId!, backend.Region);
            default:
                var path = SigningOptionsValidator.KeyFilePath(backend, environment.ContentRootPath);
                try
                {
                    var signer = new LocalKeySigner(path, backend.Region);
                    _owned.Add(signer);
                    return signer;
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or CryptographicException)
                {
                    throw new InvalidSettingException($"{setting}:KeyFile: {ex.Message}", ex);
                }
        }
    }

    private AmazonKeyManagementServiceClient KmsClient(string region)
    {
        if (_kmsClients.TryGetValue(region, out var existing))
        {
            return existing;
        }

        var kms = options.Value.Kms;
        var config = new AmazonKeyManagementServiceConfig
        {
            RegionEndpoint = RegionEndpoint.GetBySystemName(region),
            MaxErrorRetry = kms.MaxErrorRetry,
        };
        if (!string.IsNullOrEmpty(kms.ServiceUrl))
        {
            config.ServiceURL = kms.ServiceUrl;
            config.AuthenticationRegion = region;
        }

        var client = string.IsNullOrEmpty(kms.AccessKeyId)
            ? new AmazonKeyManagementServiceClient(config)
            : new AmazonKeyManagementServiceClient(new BasicAWSCredentials(kms.AccessKeyId, kms.SecretAccessKey), config);
        _kmsClients[region] = client;
        _owned.Add(client);
        return client;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
