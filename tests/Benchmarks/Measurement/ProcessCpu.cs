using System.Globalization;

namespace EdgeSigner.Benchmarks.Measurement;

/// <summary>
/// CPU time (user + system, from <c>/proc/PID/stat</c>) of named groups of processes: each service by its process id,
/// RabbitMQ and PostgreSQL by every process of theirs (<c>beam.smp</c>, <c>postgres</c> and its backends). A snapshot
/// before a load and one after give each group's CPU over that load; the load generator and the KMS server, in this
/// process, are not in any group.
/// </summary>
public sealed class ProcessCpu
{
    // USER_HZ: the unit of utime and stime; 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    private const double TicksPerSecond = 100;

    private readonly IReadOnlyDictionary<string, Func<IEnumerable<int>>> _groups;

    public ProcessCpu(IReadOnlyDictionary<string, Func<IEnumerable<int>>> groups) => _groups = groups;

    /// <summary>The services' processes by id, and the broker's and database's processes by name.</summary>
    public static ProcessCpu Of(IEnumerable<(string Name, int ProcessId)> services)
    {
        var groups = new Dictionary<string, Func<IEnumerable<int>>>(StringComparer.Ordinal);
        foreach (var group in services.GroupBy(s => s.Name, StringComparer.Ordinal))
        {
            var ids = group.Select(s => s.ProcessId).ToArray();
            groups[group.Key] = () => ids;
        }

        groups["rabbitmq"] = () => ByName("beam.smp", "erl_child_setup", "epmd", "inet_gethost");
        groups["postgresql"] = () => ByName("postgres");
        return new ProcessCpu(groups);
    }

    /// <summary>CPU seconds used so far, per group (per process id, so processes that start later count from zero).</summary>
    public Dictionary<string, Dictionary<int, double>> Snapshot() => _groups.ToDictionary(
        g => g.Key, g => g.Value().Distinct().ToDictionary(id => id, CpuSeconds), StringComparer.Ordinal);

    /// <summary>Each group's CPU seconds between two snapshots.</summary>
    public static Dictionary<string, double> Between(Dictionary<string, Dictionary<int, double>> before, Dictionary<string, Dictionary<int, double>> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return after.ToDictionary(
            g => g.Key,
            g => g.Value.Sum(p => Math.Max(0, p.Value - (before.GetValueOrDefault(g.Key)?.GetValueOrDefault(p.Key) ?? 0))),
            StringComparer.Ordinal);
    }

    private static IEnumerable<int> ByName(params string[] names)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                continue;
            }

            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
            }
            catch (IOException)
            {
                continue; // ended meanwhile
            }

            if (names.Contains(comm, StringComparer.Ordinal))
            {
                yield return id;
            }
        }
    }

    private static double CpuSeconds(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (IOException)
        {
            return 0;
        }

        // The command name, in parentheses, may hold spaces: the fields that follow it are counted from its end.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = double.Parse(fields[11], CultureInfo.InvariantCulture); // field 14, utime
        var system = double.Parse(fields[12], CultureInfo.InvariantCulture); // field 15, stime
        return (user + system) / TicksPerSecond;
    }
}
