using System.Net.Sockets;
using Npgsql;

namespace EdgeSigner.ServiceDefaults;

/// <summary>Tells a database that cannot be reached (down, restarting, the network cut) from data that is wrong.</summary>
public static class DatabaseOutage
{
    /// <summary>Whether <paramref name="exception"/> (or one it wraps) says the database is unreachable.</summary>
    public static bool IsOutage(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException
                || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" })
            {
                return true;
            }
        }

        return false;
    }
}
