using System.Diagnostics;

namespace EdgeSigner.Benchmarks.Measurement;

/// <summary>What a closed-loop load produced: completed operations per second and their latencies (warm-up excluded).</summary>
public sealed record LoadResult(int Concurrency, double PerSecond, LatencyHistogram Latency, long Errors)
{
    public double P50 => Latency.PercentileMs(50);
    public double P95 => Latency.PercentileMs(95);
    public double P99 => Latency.PercentileMs(99);
}

/// <summary>
/// <paramref name="concurrency"/> callers, each starting its next operation when the previous one ends, for a
/// warm-up (not recorded) then a measured period. An operation returns false (or throws) for an error.
/// </summary>
public static class ClosedLoop
{
    public static async Task<LoadResult> RunAsync(int concurrency, TimeSpan warmUp, TimeSpan measure, Func<CancellationToken, Task<bool>> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var histogram = new LatencyHistogram();
        long completed = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        var measureFrom = warmUp;
        var until = warmUp + measure;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < until)
            {
                var started = clock.Elapsed;
                bool ok;
                try
                {
                    ok = await operation(stop.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or InvalidOperationException)
                {
                    ok = false;
                }

                var ended = clock.Elapsed;
                if (started >= measureFrom && ended <= until)
                {
                    if (ok)
                    {
                        histogram.Record(ended - started);
                        Interlocked.Increment(ref completed);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        })).ToList();
        await Task.WhenAll(callers);
        return new LoadResult(concurrency, completed / measure.TotalSeconds, histogram, errors);
    }

    /// <summary>
    /// The load at rising concurrency (1, 2, 4, ...) until throughput stops growing by more than 5 % (saturation)
    /// or <paramref name="maxConcurrency"/> is reached; returns every level.
    /// </summary>
    public static async Task<IReadOnlyList<LoadResult>> SweepAsync(int maxConcurrency, TimeSpan warmUp, TimeSpan measure,
        Func<CancellationToken, Task<bool>> operation, int start = 1)
    {
        var levels = new List<LoadResult>();
        for (var concurrency = start; concurrency <= maxConcurrency; concurrency *= 2)
        {
            var level = await RunAsync(concurrency, warmUp, measure, operation);
            levels.Add(level);
            if (Saturated(levels))
            {
                break;
            }
        }

        return levels;
    }

    /// <summary>The level with the highest throughput.</summary>
    /// <summary>Two levels in a row without 5 % growth: the sweep has found the ceiling.</summary>
    public static bool Saturated(IReadOnlyList<LoadResult> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        return levels.Count >= 3 && levels[^1].PerSecond < levels[^2].PerSecond * 1.05 && levels[^2].PerSecond < levels[^3].PerSecond * 1.05;
    }

    public static LoadResult Saturation(IReadOnlyList<LoadResult> levels) => levels.MaxBy(l => l.PerSecond)!;

    /// <summary>The level whose throughput is nearest half of saturation's.</summary>
    public static LoadResult HalfSaturation(IReadOnlyList<LoadResult> levels)
    {
        var half = Saturation(levels).PerSecond / 2;
        return levels.MinBy(l => Math.Abs(l.PerSecond - half))!;
    }
}
