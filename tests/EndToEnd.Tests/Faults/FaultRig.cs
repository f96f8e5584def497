using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests.Faults;

/// <summary>One scenario's accounting: what was sent, what became of it, and the three counts that must be zero.</summary>
public sealed record FaultReport(string Scenario, int Sent, int Accepted, int Completed, int FailedClearly, int NoAnswer, int Lost, long SignedTwice,
    int AuditMissing, int AuditDuplicated, long ExtraKmsCalls, string NoAnswerWhy = "")
{
    public const string Header = "| scenario | sent | accepted | completed (signature verified) | failed with a clear error | no answer | lost | signed twice | audit rows missing | audit rows duplicated | KMS calls beyond one per result |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    public string Line => $"| {Scenario} | {Sent} | {Accepted} | {Completed} | {FailedClearly} | {NoAnswer} | {Lost} | {SignedTwice} | {AuditMissing} | {AuditDuplicated} | {ExtraKmsCalls} |";
}

/// <summary>
/// The fault suite's rig: EdgeSigner in distributed mode as real processes (sink, workers, ingress), steady mixed
/// traffic (synchronous signs from a few callers plus a batch), and the final count of what became of every request.
/// </summary>
public sealed class FaultRig : IAsyncDisposable
{
    /// <summary>Long form (EDGESIGNER_FAULTS_LONG=1): the outage lengths; short form: each scenario under a minute.</summary>
    public static readonly bool LongForm = Environment.GetEnvironmentVariable("EDGESIGNER_FAULTS_LONG") == "1";

    private readonly ConcurrentQueue<SyncOutcome> _sync = new();
    private readonly ConcurrentQueue<BatchSubmission> _batches = new();
    private readonly List<ServiceProcess> _processes = [];
    private int _sequence;
    private string _apiKey = string.Empty;
    private ECDsa? _publicKey;

    private FaultRig(Pipeline pipeline, string postgres)
    {
        Pipeline = pipeline;
        Postgres = postgres;
    }

    public Pipeline Pipeline { get; }
    public string Postgres { get; }
    public ServiceProcess Ingress { get; private set; } = null!;
    public ServiceProcess AuditSink { get; private set; } = null!;
    public List<ServiceProcess> Workers { get; } = [];

    public sealed record SyncOutcome(byte[] Payload, int Status, string? RequestId, string? SignatureDer, string? ErrorType, TimeSpan Took, string? Why = null);

    public sealed record BatchSubmission(int Status, string? BatchId, IReadOnlyList<(string Id, byte[] Payload)> Items, string? ErrorType);

    public static TimeSpan Outage(int shortSeconds, int longSeconds) => TimeSpan.FromSeconds(LongForm ? longSeconds : shortSeconds);

    /// <summary>
    /// Starts sink, <paramref name="workers"/> workers and the ingress; optionally on a broker or database of the
    /// test's own, with <paramref name="settings"/> beside the pipeline's.
    /// </summary>
    public static async Task<FaultRig> StartAsync(int workers = 1, string? rabbitMq = null, string? postgres = null,
        IReadOnlyDictionary<string, string>? settings = null, [System.Runtime.CompilerServices.CallerFilePath] string createdBy = "")
    {
        var pipeline = await Pipeline.CreateAsync(createdBy);
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            pipeline.Settings[name] = value;
        }

        if (rabbitMq is not null)
        {
            pipeline.Settings["ConnectionStrings:RabbitMq"] = rabbitMq;
        }

        if (postgres is not null)
        {
            pipeline.Settings["ConnectionStrings:Audit"] = postgres;
        }

        pipeline.Kms.SignLatency = TimeSpan.FromMilliseconds(5);
        pipeline.Settings["EdgeSigner:RateLimits:DefaultRatePerSecond"] = "100000";
        pipeline.Settings["EdgeSigner:RateLimits:DefaultBurst"] = "100000";
        pipeline.Settings["EdgeSigner:Api:SyncTimeoutMs"] = "5000";
        var rig = new FaultRig(pipeline, postgres ?? pipeline.Postgres);
        rig.AuditSink = await rig.StartAsync("EdgeSigner.AuditSink");
        for (var i = 0; i < workers; i++)
        {
            rig.Workers.Add(await rig.StartAsync("EdgeSigner.SignWorker"));
        }

        rig.Ingress = await rig.StartAsync("EdgeSigner.Ingress");
        using var admin = rig.Client(Pipeline.AdminToken);
        rig._apiKey = await Pipeline.CreateTenantAsync(admin, "acme");
        rig._publicKey = (await Jwks.FetchAsync(admin))[Pipeline.Kid];
        return rig;
    }

    public async Task<ServiceProcess> StartAsync(string assembly)
    {
        var process = await ServiceProcess.StartAsync(assembly, Pipeline.Settings);
        _processes.Add(process);
        return process;
    }

    public async Task RestartWorkerAsync(int index) => Workers[index] = await StartAsync("EdgeSigner.SignWorker");

    public async Task RestartAuditSinkAsync() => AuditSink = await StartAsync("EdgeSigner.AuditSink");

    public async Task RestartIngressAsync() => Ingress = await StartAsync("EdgeSigner.Ingress");

    public HttpClient Client(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Ingress.Url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? _apiKey);
        return client;
    }

    /// <summary>
    /// Steady traffic for <paramref name="duration"/>: two synchronous callers, and a batch of
    /// <paramref name="batchItems"/> submitted at the start; <paramref name="fault"/> runs beside it.
    /// </summary>
    public async Task RunAsync(TimeSpan duration, int batchItems, Func<Task> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var clock = Stopwatch.StartNew();
        await SubmitBatchAsync(batchItems);
        var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                await SignOnceAsync();
                await Task.Delay(20);
            }
        })).ToList();
        await fault();
        await Task.WhenAll(callers);
    }

    public async Task<SyncOutcome> SignOnceAsync()
    {
        var payload = Encoding.UTF8.GetBytes($"sync-{Interlocked.Increment(ref _sequence)}-{Guid.NewGuid():N}");
        var started = Stopwatch.GetTimestamp();
        SyncOutcome outcome;
        var status = 0;
        try
        {
            using var client = Client();
            using var response = await client.PostAsJsonAsync("/v1/sign", new { payload = Convert.ToBase64String(payload), format = "raw" });
            status = (int)response.StatusCode;
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            outcome = response.StatusCode == HttpStatusCode.OK
                ? new SyncOutcome(payload, 200, json.GetProperty("request_id").GetString(), json.GetProperty("signature_der").GetString(), null, Stopwatch.GetElapsedTime(started))
                : new SyncOutcome(payload, (int)response.StatusCode, null, null, json.TryGetProperty("error_type", out var e) ? e.GetString() : null, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            outcome = new SyncOutcome(payload, 0, null, null, null, Stopwatch.GetElapsedTime(started),
                $"HTTP {status}, {ex.GetType().Name}: {ex.Message} after {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        }

        _sync.Enqueue(outcome);
        return outcome;
    }

    public async Task<BatchSubmission> SubmitBatchAsync(int items)
    {
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var list = Enumerable.Range(0, items).Select(i => ($"{prefix}-{i}", Encoding.UTF8.GetBytes($"batch-{prefix}-{i}"))).ToList();
        BatchSubmission submission;
        try
        {
            using var client = Client();
            using var response = await client.PostAsJsonAsync("/v1/batches", new { items = list.Select(i => new { id = i.Item1, payload = Convert.ToBase64String(i.Item2) }) });
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            submission = response.StatusCode == HttpStatusCode.Accepted
                ? new BatchSubmission(202, json.GetProperty("batch_id").GetString(), list, null)
                : new BatchSubmission((int)response.StatusCode, null, list, json.TryGetProperty("error_type", out var e) ? e.GetString() : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            submission = new BatchSubmission(0, null, list, null);
        }

        _batches.Enqueue(submission);
        return submission;
    }

    public IReadOnlyCollection<SyncOutcome> SyncOutcomes => _sync;

    /// <summary>After <see cref="CountAsync"/>: the log lines of a few results whose audit row is missing, if any.</summary>
    public string MissingExplained { get; private set; } = string.Empty;

    /// <summary>Why the synchronous calls that got no answer got none (the first few).</summary>
    private string NoAnswerExplained => string.Join('\n', _sync.Where(s => s.Status == 0).Take(5).Select(s => s.Why));

    /// <summary>How many lines of the service processes' output contain <paramref name="text"/>.</summary>
    public int LinesContaining(string text) => _processes.Sum(p => p.Output.Count(l => l.Contains(text, StringComparison.Ordinal)));

    /// <summary>The warnings and errors each service process logged, for a failing scenario's message.</summary>
    public string Diagnostics() => string.Join('\n', new[] { ("ingress", Ingress), ("sink", AuditSink) }.Concat(Workers.Select((w, i) => ($"worker {i}", w)))
        .SelectMany(p => p.Item2.Output.Where(l => l.Contains("\"@l\":\"Warning\"", StringComparison.Ordinal) || l.Contains("\"@l\":\"Error\"", StringComparison.Ordinal)
            || l.Contains("\"@l\":\"Fatal\"", StringComparison.Ordinal)).TakeLast(15).Select(l => $"{p.Item1}: {(l.Length > 400 ? l[..400] : l)}")));

    /// <summary>Writes every service process's whole output to <paramref name="directory"/>, one file each, for a failure to be read later.</summary>
    public void WriteLogs(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, process) in new[] { ("ingress", Ingress), ("sink", AuditSink) }.Concat(Workers.Select((w, i) => ($"worker-{i}", w))))
        {
            File.WriteAllLines(Path.Combine(directory, name + ".log"), process.Output);
        }
    }

    /// <summary>
    /// After the fault healed: waits (up to <paramref name="within"/>) for every accepted batch to complete and for
    /// the audit store to hold every result, then counts.
    /// </summary>
    public async Task<FaultReport> CountAsync(string scenario, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        using var client = Client();
        var accepted = _batches.Where(b => b.Status == 202).ToList();
        var batchResults = new Dictionary<string, Dictionary<string, JsonElement>>(StringComparer.Ordinal);
        foreach (var batch in accepted)
        {
            while (deadline.Elapsed < within)
            {
                var status = await client.GetFromJsonAsync<JsonElement>($"/v1/batches/{batch.BatchId}");
                if (status.GetProperty("status").GetString() == "completed")
                {
                    break;
                }

                await Task.Delay(250);
            }

            batchResults[batch.BatchId!] = await ResultsAsync(client, batch.BatchId!);
        }

        int completed = 0, failedClearly = 0, noAnswer = 0, lost = 0;
        foreach (var outcome in _sync)
        {
            switch (outcome.Status)
            {
                case 200:
                    Assert.True(_publicKey!.VerifyData(outcome.Payload, Convert.FromBase64String(outcome.SignatureDer!), HashAlgorithmName.SHA256,
                        DSASignatureFormat.Rfc3279DerSequence), $"{scenario}: a returned signature does not verify");
                    completed++;
                    break;
                case 0:
                    noAnswer++;
                    break;
                default:
                    Assert.False(string.IsNullOrEmpty(outcome.ErrorType), $"{scenario}: a {outcome.Status} without an error_type");
                    failedClearly++;
                    break;
            }
        }

        foreach (var batch in _batches.Where(b => b.Status != 202))
        {
            // A batch not accepted is refused whole: each of its items counts once, as the client sent it.
            if (batch.Status == 0)
            {
                noAnswer += batch.Items.Count;
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(batch.ErrorType), $"{scenario}: a refused batch without an error_type");
                failedClearly += batch.Items.Count;
            }
        }

        foreach (var batch in accepted)
        {
            var results = batchResults[batch.BatchId!];
            foreach (var (id, payload) in batch.Items)
            {
                if (!results.TryGetValue(id, out var item))
                {
                    lost++;
                }
                else if (item.GetProperty("status").GetString() == "succeeded")
                {
                    Assert.True(_publicKey!.VerifyData(payload, Convert.FromBase64String(item.GetProperty("signature_der").GetString()!), HashAlgorithmName.SHA256,
                        DSASignatureFormat.Rfc3279DerSequence), $"{scenario}: a batch signature does not verify");
                    completed++;
                }
                else
                {
                    failedClearly++;
                }
            }
        }

        var signedTwice = await Sql.ScalarAsync<long>(Postgres, "SELECT count(*) - count(DISTINCT request_id) FROM signer.sign_results");
        var recorded = await Sql.ScalarAsync<long>(Postgres, "SELECT count(*) FROM signer.sign_results WHERE signature IS NOT NULL");
        var (missing, duplicated) = await Eventually.GetAsync(async () => (
                (int)await Sql.ScalarAsync<long>(Postgres, """
                    SELECT count(*) FROM signer.sign_results r WHERE r.signature IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM audit.sign_events e WHERE e.request_id = r.request_id AND e.event_type = 'edge_sign_success')
                    """),
                (int)await Sql.ScalarAsync<long>(Postgres, """
                    SELECT count(*) FROM (SELECT request_id FROM audit.sign_events WHERE event_type = 'edge_sign_success'
                    GROUP BY request_id HAVING count(*) > 1) d
                    """)),
            r => r.Item1 == 0 || deadline.Elapsed > within, within + TimeSpan.FromSeconds(5), $"{scenario}: the audit rows of every result");
        if (missing > 0)
        {
            // Say which ones, and what each service logged about them, so a failure can be understood.
            var ids = (await Sql.QueryAsync(Postgres, """
                SELECT r.request_id::text FROM signer.sign_results r WHERE r.signature IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM audit.sign_events e WHERE e.request_id = r.request_id AND e.event_type = 'edge_sign_success') LIMIT 3
                """)).Select(r => (string)r[0]!).ToList();
            MissingExplained = string.Join('\n', ids.SelectMany(id => _processes.SelectMany(p => p.Output.Where(l => l.Contains(id, StringComparison.Ordinal)))
                .Select(l => l.Length > 300 ? l[..300] : l).Prepend($"-- {id}")));
        }

        var sent = _sync.Count + _batches.Sum(b => b.Items.Count);
        var acceptedCount = _sync.Count(s => s.Status == 200) + accepted.Sum(b => b.Items.Count);
        return new FaultReport(scenario, sent, acceptedCount, completed, failedClearly, noAnswer, lost, signedTwice, missing, duplicated,
            Pipeline.Kms.SignedCalls - recorded, NoAnswerExplained);
    }

    private static async Task<Dictionary<string, JsonElement>> ResultsAsync(HttpClient client, string batchId)
    {
        var items = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}/results?limit=1000" + (cursor is null ? string.Empty : $"&after={cursor}"));
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                items[item.GetProperty("id").GetString()!] = item.Clone();
            }

            cursor = page.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return items;
    }

    /// <summary>
    /// Writes the scenario's line (and, in the long form, appends it to results/reliability.md), then asserts what
    /// every scenario must show: something signed, nothing lost, nothing signed twice, every audit row once.
    /// </summary>
    public static void Check(FaultReport report, Xunit.Abstractions.ITestOutputHelper output, bool allowNoAnswer = false, bool allowExtraKms = false)
    {
        output.WriteLine(FaultReport.Header);
        output.WriteLine(report.Line);
        if (FaultRig.LongForm)
        {
            Directory.CreateDirectory("results");
            File.AppendAllText(Path.Combine("results", "reliability.md"), report.Line + Environment.NewLine);
        }

        Assert.True(report.Completed > 0, "nothing was signed");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0L, report.SignedTwice);
        Assert.Equal(0, report.AuditMissing);

        Assert.Equal(0, report.AuditDuplicated);
        if (report.NoAnswer > 0)
        {
            output.WriteLine("no answer: " + report.NoAnswerWhy);
        }

        if (!allowNoAnswer)
        {
            Assert.Equal(0, report.NoAnswer);
        }

        if (!allowExtraKms)
        {
            Assert.Equal(0L, report.ExtraKmsCalls);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }

        _publicKey?.Dispose();
        await Pipeline.DisposeAsync();
    }
}
