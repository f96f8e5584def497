using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Benchmarks.Harness;

/// <summary>
/// EdgeSigner in distributed mode for a benchmark: a fresh RabbitMQ virtual host and PostgreSQL database, the
/// KMS-compatible server (in this process), and the audit sink, workers and ingress as separate processes.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];

    private Cluster(Pipeline pipeline) => Pipeline = pipeline;

    public Pipeline Pipeline { get; }
    public FakeKmsServer Kms => Pipeline.Kms;
    public ServiceProcess Ingress { get; private set; } = null!;
    public ServiceProcess AuditSink { get; private set; } = null!;
    public List<ServiceProcess> Workers { get; } = [];

    /// <summary>Start-up time to ready (/readyz answering 200) per service.</summary>
    public Dictionary<string, TimeSpan> StartUp { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the cluster: KMS latency and quota, the global KMS budget (the central region signs, edge being off
    /// by default), per-tenant limits high enough not to interfere unless <paramref name="settings"/> says otherwise.
    /// </summary>
    public static async Task<Cluster> StartAsync(int workers, double kmsBudget, TimeSpan kmsLatency, double? kmsQuota,
        IReadOnlyDictionary<string, string>? settings = null, TimeSpan? warmUp = null)
    {
        var pipeline = await Pipeline.CreateAsync();
        var cluster = new Cluster(pipeline);
        pipeline.Kms.SignLatency = kmsLatency;
        pipeline.Kms.QuotaPerSecond = kmsQuota;
        pipeline.Settings["EdgeSigner:KmsBudget:Regions:eu-central-1"] = kmsBudget.ToString(CultureInfo.InvariantCulture);
        pipeline.Settings["EdgeSigner:RateLimits:DefaultRatePerSecond"] = "1000000";
        pipeline.Settings["EdgeSigner:RateLimits:DefaultBurst"] = "1000000";
        pipeline.Settings["Serilog:MinimumLevel:Default"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            pipeline.Settings[key] = value;
        }

        cluster.AuditSink = await cluster.StartAsync("EdgeSigner.AuditSink", "audit-sink");
        for (var i = 0; i < workers; i++)
        {
            cluster.Workers.Add(await cluster.StartAsync("EdgeSigner.SignWorker", i == 0 ? "sign-worker" : $"sign-worker-{i}"));
        }

        cluster.Ingress = await cluster.StartAsync("EdgeSigner.Ingress", "ingress");
        if (warmUp is { } period && period > TimeSpan.Zero)
        {
            await cluster.WarmUpAsync(period);
        }

        return cluster;
    }

    private async Task<ServiceProcess> StartAsync(string assembly, string name)
    {
        var watch = Stopwatch.StartNew();
        var process = await ServiceProcess.StartAsync(assembly, Pipeline.Settings);
        StartUp[name] = watch.Elapsed;
        _processes.Add(process);
        return process;
    }

    /// <summary>Peak resident memory (VmHWM) of each service process so far, in MB.</summary>
    public Dictionary<string, double> PeakRssMb() =>
        Services().ToDictionary(n => n.Name, n => ReadHighWaterMarkMb(n.Process.ProcessId), StringComparer.Ordinal);

    /// <summary>The CPU of every pipeline process: the services (workers together), RabbitMQ and PostgreSQL.</summary>
    public Measurement.ProcessCpu Cpu() =>
        Measurement.ProcessCpu.Of(Services().Select(s => (s.Name.StartsWith("sign-worker", StringComparison.Ordinal) ? "sign-worker" : s.Name, s.Process.ProcessId)));

    private IEnumerable<(string Name, ServiceProcess Process)> Services() =>
        new[] { ("ingress", Ingress), ("audit-sink", AuditSink) }.Concat(Workers.Select((w, i) => (i == 0 ? "sign-worker" : $"sign-worker-{i}", w)));

    private static double ReadHighWaterMarkMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>
    /// Runs synchronous signing at a moderate concurrency for <paramref name="duration"/> and throws the figures away:
    /// fresh processes spend their first minute compiling (tiered JIT with dynamic PGO), and a benchmark measures the
    /// service warm, as it runs in production.
    /// </summary>
    public async Task WarmUpAsync(TimeSpan duration)
    {
        using var client = await TenantClientAsync($"warmup-{Guid.NewGuid():N}"[..20]);
        var body = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
        await Measurement.ClosedLoop.RunAsync(8, TimeSpan.Zero, duration, async ct =>
        {
            using var response = await client.PostAsJsonAsync("/v1/sign", body, ct);
            return response.IsSuccessStatusCode;
        });
    }

    /// <summary>Creates a tenant through the ingress's admin API and returns a client that signs as it.</summary>
    public async Task<HttpClient> TenantClientAsync(string tenantId, int? ratePerSecond = null, int? burst = null)
    {
        using var admin = Client(Pipeline.AdminToken);
        return Client(await Pipeline.CreateTenantAsync(admin, tenantId, ratePerSecond, burst));
    }

    /// <summary>An HTTP client to the ingress with enough connections for any concurrency used here.</summary>
    public HttpClient Client(string? bearer)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(Ingress.Url),
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }

        await Pipeline.DisposeAsync();
    }
}
