using Amazon;
using Amazon.KeyManagementService;
using Amazon.Runtime;
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

    /// <summary>Loads the keys before anything else of the host starts (consumers, Kestrel).</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        foreach (var keyOptions in options.Value.Keys)
        {
            var edge = CreateBackend(keyOptions.Edge);
            var replicas = keyOptions.EdgeReplicas.Select(CreateBackend).ToList();
            var central = CreateBackend(keyOptions.Central);
            var centralKey = await central.GetPublicKeyAsync(cancellationToken);
            foreach (var backend in replicas.Prepend(edge))
            {
                var edgeKey = await backend.GetPublicKeyAsync(cancellationToken);
                if (!edgeKey.AsSpan().SequenceEqual(centralKey))
                {
                    throw new InvalidOperationException(
                        $"Key '{keyOptions.Kid}': the edge backend ({backend.Region}, {backend.KeyId}) and the central backend " +
                        $"({central.Region}, {central.KeyId}) hold different public keys. Refusing to start.");
                }
            }

            var key = new SigningKey(keyOptions.Kid, edge, replicas, central, centralKey, keyOptions.FallbackOnConfigurationError);
            _owned.Add(key);
            keys[keyOptions.Kid] = key;
            logger.LogInformation("Signing key {Kid}: edge {EdgeRegion}, central {CentralRegion}; public keys match",
                keyOptions.Kid, edge.Region, central.Region);
        }

        _keys = keys;
    }

    private ISignerBackend CreateBackend(SignerBackendOptions backend)
    {
        switch (backend.Backend)
        {
            case SignerBackendKind.Kms:
                return new KmsSigner(KmsClient(backend.Region), backend.KmsKeyId!, backend.Region);
            default:
                var path = Path.IsPathRooted(backend.KeyFile) ? backend.KeyFile : Path.Combine(environment.ContentRootPath, backend.KeyFile!);
                var signer = new LocalKeySigner(path, backend.Region);
                _owned.Add(signer);
                return signer;
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
