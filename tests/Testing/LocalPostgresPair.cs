using Npgsql;

namespace EdgeSigner.Testing;

/// <summary>
/// A PostgreSQL primary with a synchronous streaming standby, both of a test's own (<see cref="LocalPostgres"/>),
/// and the multi-host connection string the services take: whichever of the two is the primary now.
/// </summary>
public sealed class LocalPostgresPair : IAsyncDisposable
{
    private LocalPostgresPair(LocalPostgres primary, LocalPostgres standby)
    {
        Primary = primary;
        Standby = standby;
    }

    public LocalPostgres Primary { get; }
    public LocalPostgres Standby { get; }

    /// <summary>
    /// <c>Host=a,b</c> with <c>Target Session Attributes=primary</c>: Npgsql connects to the one that accepts writes,
    /// and rechecks a host it found down or read-only after <c>Host Recheck Seconds</c> (2 here; Npgsql's default is 10).
    /// </summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = $"127.0.0.1:{Primary.Port},127.0.0.1:{Standby.Port}", Username = "postgres", Database = "edgesigner", Timeout = 3,
        TargetSessionAttributes = "primary", HostRecheckSeconds = 2,
    }.ConnectionString;

    public static async Task<LocalPostgresPair> StartAsync()
    {
        var primary = await LocalPostgres.StartAsync();
        var standby = await primary.StartStandbyAsync();
        var pair = new LocalPostgresPair(primary, standby);
        // Synchronous from here on: a commit returns once the standby has it. In postgresql.auto.conf of the primary
        // alone, written after the standby was copied, so the standby once promoted waits for no standby of its own.
        await Sql.ExecuteAsync(primary.ConnectionString, "ALTER SYSTEM SET synchronous_standby_names = '*'");
        await Sql.ExecuteAsync(primary.ConnectionString, "SELECT pg_reload_conf()");
        await Eventually.GetAsync(() => Sql.ScalarAsync<long>(primary.ConnectionString, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"),
            n => n == 1, TimeSpan.FromSeconds(60), "the standby streaming synchronously");
        return pair;
    }

    public async ValueTask DisposeAsync()
    {
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
