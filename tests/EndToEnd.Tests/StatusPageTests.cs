using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;
using PuppeteerSharp;
using static EdgeSigner.Testing.FakeKmsServer;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// The operator's page without Grafana: <c>/admin/status</c> rendered by headless Chromium (Debian's package),
/// after traffic that opened the edge key's breaker.
/// </summary>
public sealed class StatusPageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_status_page_renders_in_chromium_with_the_open_breaker_and_the_request_rate()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (scripts/test.sh does).");
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:FailurePolicy:StatusReportIntervalMs"] = "500";
        await pipeline.StartAuditSinkAsync();
        var worker = await pipeline.StartWorkerAsync();
        var ingress = await pipeline.StartIngressAsync();
        using var acme = await pipeline.CreateTenantClientAsync("acme");
        using var admin = pipeline.AdminClient();
        foreach (var body in new[]
        {
            """{"action":"update","flag":"edge_signer_enabled","value":true}""",
            """{"action":"update","flag":"tenant_allowlist","value":["acme"]}""",
        })
        {
            (await admin.PostAsync("/admin/flags", new StringContent(body, System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        }

        // The flags reach the worker over the bus: wait until it signs at the edge before breaking the edge key.
        var probes = 0;
        await Eventually.GetAsync(async () =>
        {
            probes++;
            using var signed = await acme.PostAsJsonAsync("/v1/sign", new { payload = "c3RhdHVz", format = "raw" });
            return (await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signing_mode").GetString();
        }, mode => mode == "edge-tbs+remote-es256", what: "the worker signing at the edge");

        // KMS throttles the edge key: its breaker opens on the first throttle and requests fall back to central.
        pipeline.Kms.Inject(Pipeline.EdgeKmsKeyId, Fault.Throttle);
        for (var i = 0; i < 6; i++)
        {
            var signed = await acme.PostAsJsonAsync("/v1/sign", new { payload = "c3RhdHVz", format = "raw" });
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
            Assert.Equal("central-fallback", (await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signing_mode").GetString());
        }

        // The same state in Prometheus's terms: 2 is open. Polled: the exporter may answer a scrape from its short cache.
        await Eventually.GetAsync(async () => (await PrometheusText.ScrapeAsync(worker.Url))
                .Where(s => s.Name is "edgesigner_circuit_breaker_state" or "edgesigner_kms_requests_total").ToList(),
            m => m.Any(s => s.Name == "edgesigner_circuit_breaker_state" && s["key_id"] == Pipeline.EdgeKmsKeyId && s["region"] == "eu-west-1" && s.Value == 2)
                && m.Any(s => s.Name == "edgesigner_kms_requests_total" && s["key_id"] == Pipeline.EdgeKmsKeyId && s["outcome"] == "throttled" && s.Value >= 1),
            what: "the worker's scrape to show the edge key's breaker open (2) and a throttled KMS call");

        // Every EdgeSigner series the alert rules use is exported by some service after this traffic.
        var refused = await acme.PostAsJsonAsync("/v1/sign", new { payload = "***", format = "raw" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var host in new[] { worker, ingress, pipeline.AuditSink! })
        {
            exported.UnionWith((await PrometheusText.ScrapeAsync(host.Url)).Select(s => s.Name));
        }

        var rules = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "deploy", "prometheus", "rules", "edgesigner.rules.yml"));
        var used = System.Text.RegularExpressions.Regex.Matches(rules, @"\bedgesigner_[a-z0-9_]+").Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.True(exported.Contains(name) || exported.Contains(name + "_bucket"), $"{name} is used by an alert rule but exported by no service"));

        var profile = Directory.CreateTempSubdirectory("edgesigner-chromium-");
        try
        {
            await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                UserDataDir = profile.FullName,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
            });
            await using var page = await browser.NewPageAsync();

            // Without the admin token the page is not served.
            var unauthorised = await page.GoToAsync(ingress.Url + "/admin/status");
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorised.Status);

            await page.SetExtraHttpHeadersAsync(new Dictionary<string, string> { ["Authorization"] = $"Bearer {Pipeline.AdminToken}" });
            var (breakers, rate, central, quota) = await Eventually.GetAsync(async () =>
            {
                var response = await page.GoToAsync(ingress.Url + "/admin/status");
                Assert.Equal(HttpStatusCode.OK, response.Status);
                return (await page.EvaluateExpressionAsync<string>("document.querySelector('#breakers').innerText"),
                    await page.EvaluateExpressionAsync<string>("document.querySelector('#request-rate').innerText"),
                    await page.EvaluateExpressionAsync<string>("document.querySelector('#central-rate').innerText"),
                    await page.EvaluateExpressionAsync<string>("document.querySelector('#quota').innerText"));
            }, r => r.Item1.Contains("OPEN", StringComparison.Ordinal) && r.Item4.Contains("eu-central-1", StringComparison.Ordinal),
                TimeSpan.FromSeconds(15), "the open breaker and the central region's quota on the page");

            var row = breakers.Split('\n').Single(l => l.Contains(Pipeline.EdgeKmsKeyId, StringComparison.Ordinal));
            Assert.Contains("eu-west-1", row, StringComparison.Ordinal);
            Assert.Contains("OPEN", row, StringComparison.Ordinal);
            // Over the last minute: the probes (all central but the last, which signed at the edge), six signed, one refused.
            Assert.Equal((7 + probes) / 60.0, double.Parse(rate.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture), 2);
            Assert.Equal((6 + probes - 1) / 60.0, double.Parse(central.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture), 2);

            var screenshot = Path.Combine(Path.GetTempPath(), "edgesigner-status-page.png");
            await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });
            Assert.Contains("300/s", quota.Split('\n').Single(l => l.StartsWith("eu-central-1", StringComparison.Ordinal)), StringComparison.Ordinal);
            output.WriteLine($"rendered; screenshot at {screenshot}\n{breakers}\n{rate}\n{quota}");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
