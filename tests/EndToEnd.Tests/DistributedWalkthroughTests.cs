using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Text;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The README's distributed mode as a user runs it: the three services as separate processes, each with
/// <c>dotnet run --project src/…</c> from the repository root (so each has its own project folder as content root),
/// one key file given to the worker. Every format's signature verifies against the JWKS the ingress serves, and
/// the raw one with openssl against the ingress's PEM. A second worker with another key under the same kid makes
/// the ingress unready, naming the kid.
/// </summary>
public sealed class DistributedWalkthroughTests : IAsyncLifetime
{
    private const string Kid = "es256-dev-1";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("hello edge");
    private readonly string _root = Directory.CreateTempSubdirectory("edgesigner-walkthrough-").FullName;
    private readonly List<ServiceProcess> _processes = [];
    private Pipeline _pipeline = null!;
    private Dictionary<string, string?> _settings = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = _pipeline.RabbitMq,
            ["ConnectionStrings:Audit"] = _pipeline.Postgres,
            ["EdgeSigner:Admin:Token"] = Pipeline.AdminToken,
        };
    }

    [Fact]
    public async Task Signatures_made_by_the_worker_verify_against_the_keys_the_ingress_publishes()
    {
        var keyFile = await NewKeyFileAsync("worker-key.pem");
        var sink = await StartAsync("AuditSink", _settings);
        var worker = await StartAsync("SignWorker", WithKey(keyFile));
        var ingress = await StartAsync("Ingress", _settings);
        using var admin = new HttpClient { BaseAddress = new Uri(ingress.Url) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Pipeline.AdminToken);
        using var acme = Pipeline.TenantClient(await Pipeline.CreateTenantAsync(admin, "acme"), ingress.Url);

        // The ingress holds no key of its own: the JWKS is exactly the worker's key.
        var keys = await Jwks.FetchAsync(acme);
        using var workerKey = ECDsa.Create();
        workerKey.ImportFromPem(await File.ReadAllTextAsync(keyFile));
        Assert.Equal(workerKey.ExportSubjectPublicKeyInfo(), Assert.Single(keys).Value.ExportSubjectPublicKeyInfo());

        foreach (var (format, detached) in new[] { ("raw", false), ("jws", false), ("jws", true), ("cose", false), ("cose", true) })
        {
            var response = await acme.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(Payload), format, detached });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            var key = keys[result.GetProperty("kid").GetString()!];
            switch (format)
            {
                case "raw":
                    Assert.True(key.VerifyData(Payload, Convert.FromBase64String(result.GetProperty("signature_der").GetString()!),
                        HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
                    await OpensslVerifiesAsync(ingress.Url, result.GetProperty("signature_der").GetString()!);
                    break;
                case "jws":
                    var jws = result.GetProperty("jws").GetString()!;
                    Assert.Equal(Payload, detached ? Jose.JWT.DecodeBytes(jws, key, payload: Payload) : Jose.JWT.DecodeBytes(jws, key));
                    break;
                default:
                    var message = CoseMessage.DecodeSign1(Convert.FromBase64String(result.GetProperty("cose").GetString()!));
                    Assert.True(detached ? message.VerifyDetached(key, Payload) : message.VerifyEmbedded(key));
                    break;
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync(ingress.Url + "/readyz")).StatusCode);

        // A second worker with another key under the same kid: the ingress must not go on as if nothing happened.
        var otherKey = await NewKeyFileAsync("other-key.pem");
        await StartAsync("SignWorker", WithKey(otherKey));
        using var http = new HttpClient();
        var unready = await Eventually.GetAsync(() => http.GetAsync(ingress.Url + "/readyz"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(30), "the ingress unready while two workers disagree");
        var body = await unready.Content.ReadAsStringAsync();
        Assert.Contains($"kid '{Kid}' names two public keys", body, StringComparison.Ordinal);
        Assert.False(sink.HasExited || worker.HasExited);
    }

    private Dictionary<string, string?> WithKey(string keyFile) => new(_settings)
    {
        ["EdgeSigner:Signing:Keys:0:Kid"] = Kid,
        ["EdgeSigner:Signing:Keys:0:Edge:KeyFile"] = keyFile,
        ["EdgeSigner:Signing:Keys:0:Central:KeyFile"] = keyFile,
    };

    private async Task<ServiceProcess> StartAsync(string project, Dictionary<string, string?> settings)
    {
        var port = LocalProcesses.FreePort();
        var start = ServiceProcess.Project(project, settings);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = await ServiceProcess.StartAsync(start, $"http://127.0.0.1:{port}");
        _processes.Add(process);
        return process;
    }

    /// <summary>A P-256 key made by openssl, as the README makes one.</summary>
    private async Task<string> NewKeyFileAsync(string name)
    {
        var path = Path.Combine(_root, name);
        var start = new ProcessStartInfo("openssl");
        foreach (var argument in new[] { "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path })
        {
            start.ArgumentList.Add(argument);
        }

        await LocalProcesses.RunAsync(start);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the worker refuses a key others can read
        }
        return path;
    }

    /// <summary>openssl, given the PEM that <c>/v1/keys/{kid}.pem</c> serves, verifies the raw signature over the payload.</summary>
    private async Task OpensslVerifiesAsync(string ingressUrl, string signatureDer)
    {
        using var http = new HttpClient();
        var pem = Path.Combine(_root, "pub.pem");
        await File.WriteAllTextAsync(pem, await http.GetStringAsync($"{ingressUrl}/v1/keys/{Kid}.pem"));
        var payload = Path.Combine(_root, "payload.bin");
        var signature = Path.Combine(_root, "sig.der");
        await File.WriteAllBytesAsync(payload, Payload);
        await File.WriteAllBytesAsync(signature, Convert.FromBase64String(signatureDer));
        var start = new ProcessStartInfo("openssl");
        foreach (var argument in new[] { "dgst", "-sha256", "-verify", pem, "-signature", signature, payload })
        {
            start.ArgumentList.Add(argument);
        }

        await LocalProcesses.RunAsync(start); // exit code 0 is "Verified OK"
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _pipeline.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
