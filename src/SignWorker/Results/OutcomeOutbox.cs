using System.Text.Json;
using System.Threading.Channels;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Observability;
using MassTransit;
using Npgsql;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// The transactional outbox of outcome events (PostgreSQL, <c>signer.outcome_outbox</c>). Recording a result puts
/// its <see cref="SignSucceeded"/> or <see cref="SignFailed"/> in the outbox in the same statement
/// (<see cref="SignResultStore.CompleteManyAsync"/>); the worker then publishes it at once and, once the broker
/// confirmed it, calls <see cref="Published"/>, and this service deletes those rows in bulk. A row still here after
/// <see cref="RepublishAfter"/> (the broker went away between recording and publishing, or the worker died) is
/// published again from here. The event id is derived from the request id and the timestamp is the recorded one, so
/// the audit store keeps one row whichever publish reaches it.
/// </summary>
/// <remarks>Embedded mode (SQLite, in-memory bus) has no broker to lose an event to, and no outbox.</remarks>
public sealed class OutcomeOutbox(IBus bus, SignerMetrics metrics, TimeProvider time, ILogger<OutcomeOutbox> logger, NpgsqlDataSource? database = null)
    : BackgroundService
{
    /// <summary>How old an outbox row must be before this service publishes it itself.</summary>
    public static readonly TimeSpan RepublishAfter = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan DeleteEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(5);
    private const int SweepLimit = 500;
    private const int DeleteLimit = 10_000;

    private readonly Channel<Guid> _published = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Guid> _toDelete = [];

    public bool Enabled => database is not null;

    /// <summary>The log as the outbox stores it (and <see cref="Deserialize"/> reads it back).</summary>
    public static string Serialize(EdgeSignerLog log) => JsonSerializer.Serialize(log);

    public static EdgeSignerLog Deserialize(string json) =>
        JsonSerializer.Deserialize<EdgeSignerLog>(json) ?? throw new JsonException("An outbox row holds no log.");

    /// <summary>A request's final log, with its signature and, for a batch item, its index in the batch.</summary>
    public sealed record Ended(EdgeSignerLog Log, byte[]? Signature, int? ItemIndex);

    /// <summary>The outcome event of one request, and its batch result if it is a batch item.</summary>
    public static Task PublishAsync(IPublishEndpoint publisher, EdgeSignerLog log, byte[]? signature, int? itemIndex,
        CancellationToken cancellationToken = default) =>
        PublishAsync(publisher, [new Ended(log, signature, itemIndex)], cancellationToken);

    /// <summary>
    /// The outcome event of each request and, for the batch items among them, one <see cref="BatchItemsEnded"/> with
    /// their signatures (the ingress keeps the batches' results).
    /// </summary>
    public static Task PublishAsync(IPublishEndpoint publisher, IReadOnlyList<Ended> ended, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(ended);
        var publishes = ended.Select(e => e.Log.Success
            ? publisher.Publish(new SignSucceeded { EventId = EventIds.Outcome(e.Log.RequestId), Log = e.Log }, cancellationToken)
            : publisher.Publish(new SignFailed { EventId = EventIds.Outcome(e.Log.RequestId), Log = e.Log }, cancellationToken)).ToList();
        var items = ended.Where(e => e.Log.BatchId is not null && e.ItemIndex is not null).Select(e => new BatchItemEnded
        {
            BatchId = e.Log.BatchId!.Value,
            ItemIndex = e.ItemIndex!.Value,
            ItemId = e.Log.ItemId ?? string.Empty,
            RequestId = e.Log.RequestId,
            Kid = e.Log.Kid,
            Format = e.Log.Format,
            SigningMode = e.Log.SigningMode,
            TbsHash = e.Log.TbsHash,
            Signature = e.Log.Success ? e.Signature : null,
            ErrorType = e.Log.Success ? null : e.Log.ErrorType,
            CompletedAt = e.Log.Timestamp,
        }).ToList();
        if (items.Count > 0)
        {
            publishes.Add(publisher.Publish(new BatchItemsEnded { Items = items }, cancellationToken));
        }

        return Task.WhenAll(publishes);
    }

    /// <summary>The broker confirmed the outcome event of <paramref name="requestId"/>: its outbox row can go.</summary>
    public void Published(Guid requestId)
    {
        if (Enabled)
        {
            _published.Writer.TryWrite(requestId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        var nextSweep = time.GetUtcNow() + SweepEvery;
        using var timer = new PeriodicTimer(DeleteEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await DeletePublishedAsync(stoppingToken);
                    if (time.GetUtcNow() >= nextSweep)
                    {
                        nextSweep = time.GetUtcNow() + SweepEvery;
                        await RepublishStaleAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database or the broker is away: the rows stay, and the next round tries again.
                    logger.LogWarning("The outcome outbox could not do its round ({Error}); it tries again", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Stopping: delete what was confirmed, so the next worker does not publish it again (harmless if it did).
            try
            {
                await DeletePublishedAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogInformation("Left {Count} confirmed outcome events in the outbox at shutdown ({Error})", _toDelete.Count, ex.Message);
            }
        }
    }

    private async Task DeletePublishedAsync(CancellationToken cancellationToken)
    {
        while (_toDelete.Count < DeleteLimit && _published.Reader.TryRead(out var id))
        {
            _toDelete.Add(id);
        }

        if (_toDelete.Count == 0)
        {
            return;
        }

        await using var command = database!.CreateCommand("DELETE FROM signer.outcome_outbox WHERE request_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = _toDelete.ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
        _toDelete.Clear();
    }

    /// <summary>
    /// Publishes the outbox rows older than <see cref="RepublishAfter"/> and deletes them, in one transaction that
    /// locks them (<c>SKIP LOCKED</c>: two workers never take the same rows).
    /// </summary>
    private async Task RepublishStaleAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database!.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var stale = new List<Ended>();
        // A batch item's signature and index come from its result, recorded in the same statement as the outbox row.
        await using (var select = new NpgsqlCommand("""
            SELECT o.request_id, o.log::text, r.signature, r.item_index FROM signer.outcome_outbox o
            LEFT JOIN signer.sign_results r ON r.request_id = o.request_id
            WHERE o.completed_at < $1
            ORDER BY o.completed_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() - RepublishAfter });
            select.Parameters.Add(new NpgsqlParameter { Value = SweepLimit });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stale.Add(new Ended(Deserialize(reader.GetString(1)), reader.IsDBNull(2) ? null : (byte[])reader[2],
                    reader.IsDBNull(3) ? null : reader.GetInt32(3)));
            }
        }

        if (stale.Count == 0)
        {
            return;
        }

        await PublishAsync(bus, stale, cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM signer.outcome_outbox WHERE request_id = ANY($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = stale.Select(s => s.Log.RequestId).ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        metrics.RecordOutboxRepublished(stale.Count);
        logger.LogWarning("Published {Count} outcome events from the outbox that the worker had recorded but not published (the broker or the worker went away)",
            stale.Count);
    }
}
