using EdgeSigner.Contracts.Flags;
using Microsoft.Extensions.Logging;

namespace EdgeSigner.Guardrails.Flags;

/// <summary>
/// The newest flag snapshot this process has seen. Snapshots arrive from <see cref="FlagsChanged"/> events, from
/// periodic reloads and from the store itself; an older version never replaces a newer one.
/// </summary>
public sealed class FlagsState(ILogger<FlagsState> logger)
{
    private FlagsSnapshot _current = FlagsSnapshot.Initial(EdgeSignerFlags.Defaults);
    private readonly Lock _gate = new();
    private bool _loaded;

    public FlagsSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Takes <paramref name="snapshot"/> if it is newer than the current one; returns whether it did.</summary>
    public bool TryApply(FlagsSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            // The first snapshot from the store replaces the code's defaults even at version 0 (no change made yet);
            // after that only a newer version does, so a periodic reload of the same version changes nothing.
            if (snapshot.Version < _current.Version || (snapshot.Version == _current.Version && _loaded))
            {
                return false;
            }

            _loaded = true;
            Volatile.Write(ref _current, snapshot);
        }

        logger.LogInformation(
            "Flags version {FlagsVersion}: edge {EdgeSignerEnabled}, emergency shutdown {EmergencyShutdown}, route removed {RouteRemoved}",
            snapshot.Version, snapshot.Global.EdgeSignerEnabled, snapshot.EmergencyShutdown, snapshot.RouteRemoved);
        return true;
    }
}
