namespace EdgeSigner.Benchmarks.Reporting;

/// <summary>A figure over several runs: the median, and the spread as the lowest and highest run.</summary>
public sealed record Measured(double Median, double Min, double Max, int Runs)
{
    public static Measured Of(IEnumerable<double> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var sorted = runs.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No runs to summarise.", nameof(runs));
        }

        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return new Measured(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>The median over the ceiling's median; null when the ceiling is zero.</summary>
    public double? RatioTo(Measured ceiling)
    {
        ArgumentNullException.ThrowIfNull(ceiling);
        return ceiling.Median == 0 ? null : Median / ceiling.Median;
    }

    public string Format(string unit, string number = "F1") => Runs <= 1
        ? $"{Median.ToString(number, System.Globalization.CultureInfo.InvariantCulture)}{unit}"
        : $"{Median.ToString(number, System.Globalization.CultureInfo.InvariantCulture)}{unit} " +
          $"({Min.ToString(number, System.Globalization.CultureInfo.InvariantCulture)}–{Max.ToString(number, System.Globalization.CultureInfo.InvariantCulture)})";
}
