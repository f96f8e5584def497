using System.Diagnostics;
using Npgsql;

namespace EdgeSigner.Testing;

/// <summary>
/// A PostgreSQL server of one test's own (initdb into a temporary folder, a free loopback port), so the test can stop
/// and start it without touching the server every other test uses. Needs the server binaries of Debian's
/// <c>postgresql</c> package (scripts/test.sh installs them); as root it runs them as the <c>postgres</c> user.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dataDir;
    private LocalPostgres(string bin, string dataDir, int port)
    {
        _bin = bin;
        _dataDir = dataDir;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = "edgesigner", Timeout = 3, Pooling = true,
    }.ConnectionString;

    /// <summary>A streaming standby of this primary (<c>pg_basebackup -R</c>), running, read-only until promoted.</summary>
    public async Task<LocalPostgres> StartStandbyAsync()
    {
        var dataDir = Directory.CreateTempSubdirectory("edgesigner-pg-standby-").FullName;
        var standby = new LocalPostgres(_bin, dataDir, LocalProcesses.FreePort());
        await RunAsync("chown", "postgres:postgres", dataDir, asPostgres: false);
        await RunAsync(Path.Combine(_bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-D", dataDir, "-R", "-X", "stream", "--no-sync");
        await standby.StartServerAsync();
        return standby;
    }

    /// <summary>Makes this standby the primary (<c>pg_ctl promote</c>), waiting until it accepts writes.</summary>
    public Task PromoteAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), "-D", _dataDir, "-w", "promote");

    /// <summary><c>kill -9</c> of the postmaster and every backend: the server ends as in a crash, mid-transaction.</summary>
    public void Kill()
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(_dataDir, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        LocalProcesses.Kill9(pid);
        NpgsqlConnection.ClearAllPools();
    }

    public static async Task<LocalPostgres> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException(
                "This test starts and stops a PostgreSQL server of its own and needs the server binaries (/usr/lib/postgresql/*/bin/initdb): " +
                "install Debian's postgresql package (scripts/test.sh does).");
        }

        var dataDir = Directory.CreateTempSubdirectory("edgesigner-pg-").FullName;
        var server = new LocalPostgres(bin, dataDir, LocalProcesses.FreePort());
        await RunAsync("chown", "postgres:postgres", dataDir, asPostgres: false);
        await RunAsync(Path.Combine(bin, "initdb"), "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        await server.StartServerAsync();
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE edgesigner", connection);
            await create.ExecuteNonQueryAsync();
        }

        return server;
    }

    /// <summary>Stops the server at once (fast shutdown: connections are cut).</summary>
    public Task StopServerAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return RunAsync(Path.Combine(_bin, "pg_ctl"), "-D", _dataDir, "-m", "fast", "-w", "stop");
    }

    public Task StartServerAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), "-D", _dataDir, "-w", "-l", Path.Combine(_dataDir, "server.log"),
        "-o", $"-p {Port} -k {_dataDir} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    private static async Task RunAsync(string program, params string[] arguments) => await RunAsync(program, arguments, asPostgres: true);

    private static async Task RunAsync(string program, string a1, string a2, bool asPostgres) => await RunAsync(program, [a1, a2], asPostgres);

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres)
    {
        var root = Environment.UserName == "root";
        var start = new ProcessStartInfo(asPostgres && root ? "runuser" : program);
        if (asPostgres && root)
        {
            foreach (var a in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        await LocalProcesses.RunAsync(start);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException) when (File.Exists(Path.Combine(_dataDir, "postmaster.pid")))
        {
            Kill(); // would not stop, or was killed and left its pid file
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        Directory.Delete(_dataDir, recursive: true);
    }
}
