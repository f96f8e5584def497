using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeSigner.Benchmarks.Reporting;

/// <summary>One line of the table: a figure beside the ceiling it is compared with, measured in the same run.</summary>
public sealed record Row
{
    public required string Scenario { get; init; }
    public required string Figure { get; init; }
    public required Measured Value { get; init; }
    public string Unit { get; init; } = string.Empty;
    public string Number { get; init; } = "F1";
    public string Ceiling { get; init; } = string.Empty;
    public Measured? CeilingValue { get; init; }
    public string CeilingUnit { get; init; } = string.Empty;

    /// <summary>Value ÷ ceiling (or the figure the goal is stated in), when the row has one.</summary>
    public double? Ratio { get; init; }

    public string? Goal { get; init; }
    public bool? Met { get; init; }
}

/// <summary>A latency-against-throughput curve: one point per concurrency level (medians over the runs).</summary>
public sealed record Curve(string Name, IReadOnlyList<CurvePoint> Points);

public sealed record CurvePoint(int Concurrency, double PerSecond, double P50Ms, double P99Ms);

/// <summary>The whole run: the machine, the rows, the curves; written as Markdown, JSON and a PNG plot.</summary>
public sealed class BenchmarkReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public required string Machine { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required int Runs { get; init; }
    public List<Row> Rows { get; } = [];
    public List<Curve> Curves { get; } = [];
    public List<string> Notes { get; } = [];

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"Machine: {Machine}. Started {StartedAt:yyyy-MM-dd HH:mm} UTC. Each figure is the median of {Runs} run(s), the spread (lowest–highest) in brackets.");
        md.AppendLine();
        md.AppendLine("| scenario | figure | value | ceiling measured beside it | ratio | goal |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var row in Rows)
        {
            var ceiling = row.CeilingValue is null ? row.Ceiling : $"{row.Ceiling}: {row.CeilingValue.Format(row.CeilingUnit, row.Number)}";
            var ratio = row.Ratio is { } r ? r.ToString("F3", c) : string.Empty;
            var goal = row.Goal is null ? string.Empty : $"{row.Goal} {(row.Met == true ? "(met)" : row.Met == false ? "(missed)" : string.Empty)}".Trim();
            md.AppendLine(c, $"| {row.Scenario} | {row.Figure} | {row.Value.Format(row.Unit, row.Number)} | {ceiling} | {ratio} | {goal} |");
        }

        if (Notes.Count > 0)
        {
            md.AppendLine();
            foreach (var note in Notes)
            {
                md.AppendLine(c, $"- {note}");
            }
        }

        return md.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new { Machine, StartedAt, Runs, Rows, Curves, Notes }, Json);

    /// <summary>Writes report.md, report.json and latency-throughput.png into <paramref name="folder"/>.</summary>
    public async Task WriteAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), ToMarkdown());
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), ToJson());
        Plot.LatencyAgainstThroughput(Curves, Path.Combine(folder, "latency-throughput.png"));
    }
}
