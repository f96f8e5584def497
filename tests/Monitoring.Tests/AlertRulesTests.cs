using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeSigner.Testing;

namespace EdgeSigner.Monitoring.Tests;

/// <summary>
/// The alert rules in <c>deploy/prometheus/rules</c>, checked and unit-tested by <c>promtool</c> (Debian's
/// <c>prometheus</c> package; scripts/test.sh installs it), and the Grafana dashboard's queries.
/// </summary>
public sealed partial class AlertRulesTests
{
    private static readonly string Deploy = Path.Combine(Repository.Root, "deploy");
    private static readonly string Rules = Path.Combine(Deploy, "prometheus", "rules", "edgesigner.rules.yml");
    private static readonly string[] PromtoolPaths = ["/usr/bin/promtool", "/usr/local/bin/promtool"];
    private static readonly Regex[] SeedPanels =
    [
        new("edge vs central"), new("latency .*by region"), new("by error type"), new("by tenant"), new("[Bb]reaker state"),
        new("quota utilisation"), new("cost per operation"), new("cost, cumulative"),
    ];

    private static readonly string RuleTests = Path.Combine(Deploy, "prometheus", "rules", "edgesigner.rules.test.yml");

    /// <summary>The seed's alerts, each of which must exist and have a firing and a quiet test case.</summary>
    public static TheoryData<string> SeedAlerts() =>
    [
        "EdgeSignerLatencyP95High", "EdgeSignerErrorRateHigh", "EdgeSignerKmsErrorRateHigh", "EdgeSignerKmsQuotaHigh",
        "EdgeSignerCircuitBreakerOpen", "EdgeSignerMemoryHigh", "EdgeSignerCpuHigh",
    ];

    [Fact]
    public async Task Promtool_accepts_the_rules()
    {
        var (code, output) = await PromtoolAsync("check", "rules", Rules);
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_accepts_the_scrape_configuration()
    {
        var (code, output) = await PromtoolAsync("check", "config", Path.Combine(Deploy, "prometheus", "prometheus.yml"));
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Every_rule_test_passes_in_promtool()
    {
        var (code, output) = await PromtoolAsync("test", "rules", RuleTests);
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SeedAlerts))]
    public void Each_seed_alert_has_a_severity_a_runbook_and_tests_that_fire_and_stay_quiet(string alert)
    {
        var rules = File.ReadAllText(Rules);
        var block = Regex.Match(rules, $@"- alert: {alert}\s*\n(?<body>(\s{{6,}}.*\n?)+)").Groups["body"].Value;
        Assert.False(string.IsNullOrEmpty(block), $"{alert} is not in {Rules}");
        Assert.Matches(@"severity: (critical|warning)", block);
        Assert.Contains("runbook_url:", block, StringComparison.Ordinal);
        Assert.Contains("README.md#break-glass", block, StringComparison.Ordinal);

        // In the promtool tests: at least one case where it fires (listed with labels) and one where it must not.
        var tests = File.ReadAllText(RuleTests);
        var cases = Regex.Matches(tests, $@"alertname: {alert}\s*\n\s*exp_alerts:(?<alerts>.*?)(?=\n\s*- eval_time:|\n\s*- interval:|\n\S|\z)", RegexOptions.Singleline);
        Assert.Contains(cases, c => c.Groups["alerts"].Value.Contains("exp_labels", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.Groups["alerts"].Value.TrimStart().StartsWith("[]", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_has_the_seed_panels_and_queries_only_known_series()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "dashboards", "edgesigner.json")));
        var panels = AllPanels(dashboard.RootElement).ToList();
        var expressions = panels.Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        var rules = File.ReadAllText(Rules);
        var recorded = RecordName().Matches(rules).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var name in expressions.SelectMany(e => SeriesName().Matches(e)).Select(m => m.Value).Distinct(StringComparer.Ordinal))
        {
            Assert.True(name.StartsWith("edgesigner_", StringComparison.Ordinal) || recorded.Contains(name), $"The dashboard queries an unknown series {name}");
        }

        // The seed's "Key Metrics Dashboard": each of its panels is there.
        var titles = string.Join('\n', panels.Select(p => p.GetProperty("title").GetString()));
        foreach (var panel in SeedPanels)
        {
            Assert.Matches(panel, titles);
        }
    }

    private static IEnumerable<JsonElement> AllPanels(JsonElement parent) => parent.TryGetProperty("panels", out var panels)
        ? panels.EnumerateArray().SelectMany(p => AllPanels(p).Prepend(p))
        : [];

    [GeneratedRegex(@"record:\s*(?<name>\S+)")]
    private static partial Regex RecordName();

    [GeneratedRegex(@"\b(edgesigner_[a-z0-9_]+|edgesigner:[a-z0-9_:]+)")]
    private static partial Regex SeriesName();

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        var promtool = PromtoolPaths.FirstOrDefault(File.Exists);
        Assert.True(promtool is not null, "promtool is missing: install Debian's prometheus package (scripts/test.sh does).");
        var start = new ProcessStartInfo(promtool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Deploy };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
