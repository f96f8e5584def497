namespace EdgeSigner.SignWorker.Observability;

/// <summary>
/// The process's CPU time and working set for the seed's <c>cpu_ms_used</c> and <c>memory_mb_used</c> log fields,
/// read from the kernel ten times a second instead of on every log line: each read is a system call or a
/// <c>/proc</c> file, and three per signature were a measurable share of the worker's CPU (docs/performance.md).
/// <c>cpu_ms_used</c> keeps its meaning (the process's CPU time while the request was handled) at a resolution of
/// 100 ms. Like <see cref="Environment"/> itself, process-wide.
/// </summary>
public static class ProcessLoad
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);
    private static readonly Timer Sampler = new(_ => Sample(), null, Every, Every);
    private static long _cpuTicks = Environment.CpuUsage.TotalTime.Ticks;
    private static double _workingSetMb = Math.Round(Environment.WorkingSet / (1024.0 * 1024.0), 1);

    /// <summary>The process's CPU time (user and system) at the last sample.</summary>
    public static TimeSpan CpuTime
    {
        get
        {
            GC.KeepAlive(Sampler);
            return TimeSpan.FromTicks(Interlocked.Read(ref _cpuTicks));
        }
    }

    /// <summary>The working set at the last sample, in MB, one decimal.</summary>
    public static double WorkingSetMb => Volatile.Read(ref _workingSetMb);

    private static void Sample()
    {
        Interlocked.Exchange(ref _cpuTicks, Environment.CpuUsage.TotalTime.Ticks);
        Volatile.Write(ref _workingSetMb, Math.Round(Environment.WorkingSet / (1024.0 * 1024.0), 1));
    }
}
