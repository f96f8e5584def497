using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeSigner.Testing;

/// <summary>
/// A distributed EdgeSigner in the test process: ingress, worker and audit sink as separate hosts on a RabbitMQ
/// virtual host and a PostgreSQL database of their own, both backends of the signing key in the KMS-compatible
/// server (edge in eu-west-1, central in eu-central-1), reached through the real AWS SDK.
/// </summary>
public sealed class Pipeline : IAsyncDisposable
{
    public const string Kid = "es256-e2e";
    public const string EdgeKmsKeyId = "edge-key";
    public const string CentralKmsKeyId = "central-key";
    public const string AdminToken = "test-admin-token-0123456789abcdef";

    private readonly List<ServiceHost> _hosts = [];
    private readonly string _root = Directory.CreateTempSubdirectory("edgesigner-pipeline-").FullName;

    private Pipeline(string rabbit, string postgres, FakeKmsServer kms)
    {
        RabbitMq = rabbit;
        Postgres = postgres;
        Kms = kms;
    }

    public string RabbitMq { get; }
    public string Postgres { get; }
    public FakeKmsServer Kms { get; }
    public ServiceHost? Ingress { get; private set; }
    public ServiceHost? Worker { get; private set; }
    public ServiceHost? AuditSink { get; private set; }

    /// <summary>Settings every service of this pipeline shares; a test may add or override some.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    public static async Task<Pipeline> CreateAsync()
    {
        var rabbit = await TestServers.CreateRabbitVirtualHostAsync();
        var postgres = await TestServers.CreatePostgresDatabaseAsync();
        var kms = await FakeKmsServer.StartAsync();
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            kms.AddKey(EdgeKmsKeyId, ECDsa.Create(key.ExportParameters(true)));
            kms.AddKey(CentralKmsKeyId, ECDsa.Create(key.ExportParameters(true)));
        }

        var pipeline = new Pipeline(rabbit, postgres, kms);
        foreach (var (name, value) in new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = rabbit,
            ["ConnectionStrings:Audit"] = postgres,
            ["EdgeSigner:Admin:Token"] = AdminToken,
            ["EdgeSigner:Signing:Keys:0:Kid"] = Kid,
            ["EdgeSigner:Signing:Keys:0:Edge:Backend"] = "Kms",
            ["EdgeSigner:Signing:Keys:0:Edge:KmsKeyId"] = EdgeKmsKeyId,
            ["EdgeSigner:Signing:Keys:0:Edge:Region"] = "eu-west-1",
            ["EdgeSigner:Signing:Keys:0:Central:Backend"] = "Kms",
            ["EdgeSigner:Signing:Keys:0:Central:KmsKeyId"] = CentralKmsKeyId,
            ["EdgeSigner:Signing:Keys:0:Central:Region"] = "eu-central-1",
            ["EdgeSigner:Signing:Kms:ServiceUrl"] = kms.Url,
            ["EdgeSigner:Signing:Kms:AccessKeyId"] = "test",
            ["EdgeSigner:Signing:Kms:SecretAccessKey"] = "test",
            ["EdgeSigner:Signing:Kms:MaxErrorRetry"] = "0",
        })
        {
            pipeline.Settings[name] = value;
        }

        return pipeline;
    }

    public async Task<ServiceHost> StartAuditSinkAsync() =>
        AuditSink = Track(await ServiceHost.StartAuditSinkAsync(Settings, Path.Combine(_root, "sink")));

    public async Task<ServiceHost> StartWorkerAsync() =>
        Worker = Track(await ServiceHost.StartWorkerAsync(Settings, Path.Combine(_root, "worker")));

    public async Task<ServiceHost> StartIngressAsync() =>
        Ingress = Track(await ServiceHost.StartIngressAsync(Settings, Path.Combine(_root, "ingress")));

    /// <summary>Creates a tenant through the admin API and returns an HTTP client that signs as it.</summary>
    public async Task<HttpClient> CreateTenantClientAsync(string tenantId)
    {
        var ingress = Ingress ?? throw new InvalidOperationException("Start the ingress first.");
        using var admin = new HttpClient { BaseAddress = new Uri(ingress.Url) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        (await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = tenantId })).EnsureSuccessStatusCode();
        var issued = await (await admin.PostAsync($"/admin/tenants/{tenantId}/keys", null)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>();
        var client = new HttpClient { BaseAddress = new Uri(ingress.Url), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.GetProperty("api_key").GetString());
        return client;
    }

    private ServiceHost Track(ServiceHost host)
    {
        _hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }

        await Kms.DisposeAsync();
        await TestServers.DeleteRabbitVirtualHostAsync(RabbitMq);
        await TestServers.DropPostgresDatabaseAsync(Postgres);
        Directory.Delete(_root, recursive: true);
    }
}
