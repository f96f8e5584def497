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
    public const string EdgeUsKmsKeyId = "edge-us-key";
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
    /// <summary>The first ingress started.</summary>
    public ServiceHost? Ingress => Ingresses.FirstOrDefault();
    public List<ServiceHost> Ingresses { get; } = [];
    public List<ServiceHost> Workers { get; } = [];
    public ServiceHost? AuditSink { get; private set; }

    /// <summary>The clock of every service started from now on; the system's when null.</summary>
    public TimeProvider? Clock { get; set; }

    /// <summary>Settings every service of this pipeline shares; a test may add or override some.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    /// <param name="createdBy">The source file of the test class that makes the pipeline (filled in by the compiler):
    /// every service's log lines carry it as <c>test_class</c>, so scripts/test.sh can show a failed test's own lines.</param>
    public static async Task<Pipeline> CreateAsync([System.Runtime.CompilerServices.CallerFilePath] string createdBy = "")
    {
        var rabbit = await TestServers.CreateRabbitVirtualHostAsync();
        var postgres = await TestServers.CreatePostgresDatabaseAsync();
        var kms = await FakeKmsServer.StartAsync();
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            kms.AddKey(EdgeKmsKeyId, ECDsa.Create(key.ExportParameters(true)));
            kms.AddKey(CentralKmsKeyId, ECDsa.Create(key.ExportParameters(true)));
            kms.AddKey(EdgeUsKmsKeyId, ECDsa.Create(key.ExportParameters(true)));
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
            ["EdgeSigner:Signing:Keys:0:EdgeReplicas:0:Backend"] = "Kms",
            ["EdgeSigner:Signing:Keys:0:EdgeReplicas:0:KmsKeyId"] = EdgeUsKmsKeyId,
            ["EdgeSigner:Signing:Keys:0:EdgeReplicas:0:Region"] = "us-east-1",
            ["EdgeSigner:Signing:Keys:0:Central:Backend"] = "Kms",
            ["EdgeSigner:Signing:Keys:0:Central:KmsKeyId"] = CentralKmsKeyId,
            ["EdgeSigner:Signing:Keys:0:Central:Region"] = "eu-central-1",
            ["EdgeSigner:Signing:Kms:ServiceUrl"] = kms.Url,
            ["EdgeSigner:Signing:Kms:AccessKeyId"] = "test",
            ["EdgeSigner:Signing:Kms:SecretAccessKey"] = "test",
            ["EdgeSigner:Signing:Kms:MaxErrorRetry"] = "0",
            ["Serilog:Properties:test_class"] = Path.GetFileNameWithoutExtension(createdBy),
        })
        {
            pipeline.Settings[name] = value;
        }

        return pipeline;
    }

    public async Task<ServiceHost> StartAuditSinkAsync() =>
        AuditSink = Track(await ServiceHost.StartAuditSinkAsync(Settings, Path.Combine(_root, "sink"), Clock));

    public async Task<ServiceHost> StartWorkerAsync()
    {
        var worker = Track(await ServiceHost.StartWorkerAsync(Settings, Path.Combine(_root, $"worker-{Workers.Count}"), Clock));
        Workers.Add(worker);
        return worker;
    }

    public async Task<ServiceHost> StartIngressAsync()
    {
        var ingress = Track(await ServiceHost.StartIngressAsync(Settings, Path.Combine(_root, $"ingress-{Ingresses.Count}"), Clock));
        Ingresses.Add(ingress);
        return ingress;
    }

    /// <summary>An HTTP client that calls an ingress with the admin token.</summary>
    public HttpClient AdminClient(ServiceHost? ingress = null)
    {
        var client = new HttpClient { BaseAddress = new Uri((ingress ?? Ingress ?? throw new InvalidOperationException("Start the ingress first.")).Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>Creates a tenant through the admin API and returns an HTTP client that signs as it.</summary>
    public async Task<HttpClient> CreateTenantClientAsync(string tenantId) =>
        TenantClient(await CreateTenantAsync(tenantId), Ingress!);

    /// <summary>Creates a tenant with one API key; returns the key.</summary>
    public async Task<string> CreateTenantAsync(string tenantId)
    {
        using var admin = AdminClient();
        return await CreateTenantAsync(admin, tenantId);
    }

    /// <summary>
    /// Creates a tenant through the admin API that <paramref name="admin"/> calls (any ingress, in-process or a
    /// process), with its own rate limit if given, and issues it one API key; returns the key.
    /// </summary>
    public static async Task<string> CreateTenantAsync(HttpClient admin, string tenantId, int? ratePerSecond = null, int? burst = null)
    {
        ArgumentNullException.ThrowIfNull(admin);
        (await admin.PostAsJsonAsync("/admin/tenants", new { tenant_id = tenantId, rate_per_second = ratePerSecond, burst })).EnsureSuccessStatusCode();
        var issued = await (await admin.PostAsync($"/admin/tenants/{tenantId}/keys", null)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>();
        return issued.GetProperty("api_key").GetString()!;
    }

    /// <summary>An HTTP client that signs with <paramref name="apiKey"/> through <paramref name="ingress"/>.</summary>
    public static HttpClient TenantClient(string apiKey, ServiceHost ingress)
    {
        ArgumentNullException.ThrowIfNull(ingress);
        return TenantClient(apiKey, ingress.Url);
    }

    /// <summary>An HTTP client that signs with <paramref name="apiKey"/> through the ingress at <paramref name="ingressUrl"/> (a process).</summary>
    public static HttpClient TenantClient(string apiKey, string ingressUrl)
    {
        var client = new HttpClient { BaseAddress = new Uri(ingressUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
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
