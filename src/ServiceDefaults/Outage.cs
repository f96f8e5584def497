using System.Net.Sockets;
using Npgsql;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// Tells an infrastructure outage (the database or the message broker down, restarting, the network cut) from data
/// that is wrong: what a consumer waits out, message unacknowledged, rather than send to its error queue.
/// </summary>
public static class Outage
{
    /// <summary>Whether <paramref name="exception"/> (or one it wraps) says the database or the message broker is unreachable.</summary>
    public static bool OfDatabaseOrBroker(Exception? exception) => OfDatabase(exception) || OfBroker(exception);

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) comes from a lost or refused broker connection.</summary>
    public static bool OfBroker(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var type = e.GetType();
            if (type.Namespace?.StartsWith("RabbitMQ.Client", StringComparison.Ordinal) == true
                || (type.Namespace == "MassTransit" && type.Name.EndsWith("ConnectionException", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="exception"/> (or one it wraps) says the database is unreachable: Npgsql could not talk
    /// to a server (every <see cref="NpgsqlException"/> the server itself did not send, among them a multi-host
    /// string's "No suitable host was found" while a standby is being promoted), or the server says it is shutting
    /// down, starting, out of connections, in recovery or read-only (a standby), or the connection failed (class 08).
    /// </summary>
    public static bool OfDatabase(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException or TimeoutException || e is NpgsqlException and not PostgresException
                || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" or "25006" or ['0', '8', _, _, _] })
            {
                return true;
            }
        }

        return false;
    }
}
