using EdgeSigner.AuditSink.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// One writer at a time extends the audit trail's hash chain, and the time its rows are recorded at; one
/// implementation per store, chosen at registration.
/// </summary>
public interface IChainGate
{
    /// <summary>Before the writer's transaction: held until disposed.</summary>
    Task<IDisposable> EnterAsync(CancellationToken cancellationToken);

    /// <summary>Inside the writer's transaction: holds the chain for it and returns the time its rows are recorded at.</summary>
    Task<DateTimeOffset> RecordingTimeAsync(AuditDbContext db, DateTimeOffset? recordedAt, CancellationToken cancellationToken);
}

/// <summary>
/// PostgreSQL: an advisory lock held for the transaction serialises every sink instance's writers; rows are recorded
/// on the database's clock, in a partition made sure of first.
/// </summary>
public sealed class PostgresChainGate : IChainGate
{
    /// <summary>The key of the advisory lock that serialises writers of the chain.</summary>
    public const long ChainLockKey = 0x45_64_67_65_53_69_67_01; // "EdgeSig" + 1

    public Task<IDisposable> EnterAsync(CancellationToken cancellationToken) => Task.FromResult<IDisposable>(NothingHeld.Instance);

    public async Task<DateTimeOffset> RecordingTimeAsync(AuditDbContext db, DateTimeOffset? recordedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var locked = await db.Database.SqlQuery<DateTimeOffset>(
            $"SELECT clock_timestamp() AS \"Value\" FROM (SELECT pg_advisory_xact_lock({ChainLockKey})) AS locked").SingleAsync(cancellationToken);
        var now = recordedAt ?? locked;
        await db.Database.SqlQuery<string>($"SELECT coalesce(audit.ensure_partition('audit_trail', {now}), '') AS \"Value\"").ToListAsync(cancellationToken);
        return now;
    }

    private sealed class NothingHeld : IDisposable
    {
        public static readonly NothingHeld Instance = new();

        public void Dispose()
        {
        }
    }
}

/// <summary>The embedded store has one process: a lock of this gate (a singleton) serialises its writers; the host's clock times them.</summary>
public sealed class EmbeddedChainGate(TimeProvider time) : IChainGate, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Held(_gate);
    }

    public Task<DateTimeOffset> RecordingTimeAsync(AuditDbContext db, DateTimeOffset? recordedAt, CancellationToken cancellationToken) =>
        Task.FromResult(recordedAt ?? time.GetUtcNow());

    public void Dispose() => _gate.Dispose();

    private sealed class Held(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
