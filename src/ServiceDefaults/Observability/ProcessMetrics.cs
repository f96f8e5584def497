using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EdgeSigner.ServiceDefaults.Observability;

/// <summary>
/// The two gauges the seed's resource alerts need, as fractions so one threshold fits any machine:
/// <c>edgesigner_process_memory_utilization</c> (working set ÷ the memory the GC may use, which honours a
/// container's limit) and <c>edgesigner_process_cpu_utilization</c> (CPU time ÷ wall time × cores, since the last scrape).
/// </summary>
public sealed class ProcessMetrics
{
    private readonly Lock _gate = new();
    private TimeSpan _lastCpu = Environment.CpuUsage.TotalTime;
    private long _lastTimestamp = Stopwatch.GetTimestamp();

    public ProcessMetrics(IMeterFactory meters)
    {
        var meter = meters.Create($"{Telemetry.MeterPrefix}.Process");
        meter.CreateObservableGauge("edgesigner.process.memory.utilization", MemoryUtilization,
            description: "Working set as a fraction of the memory available to the process (0..1).");
        meter.CreateObservableGauge("edgesigner.process.cpu.utilization", CpuUtilization,
            description: "CPU time used as a fraction of all cores' time since the previous reading (0..1).");
    }

    public static double MemoryUtilization()
    {
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? (double)Environment.WorkingSet / available : 0;
    }

    public double CpuUtilization()
    {
        lock (_gate)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            var now = Stopwatch.GetTimestamp();
            var wall = Stopwatch.GetElapsedTime(_lastTimestamp, now);
            var used = cpu - _lastCpu;
            _lastCpu = cpu;
            _lastTimestamp = now;
            return wall > TimeSpan.Zero ? Math.Clamp(used / (wall * Environment.ProcessorCount), 0, 1) : 0;
        }
    }
}
