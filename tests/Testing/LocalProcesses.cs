using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeSigner.Testing;

/// <summary>What the fixtures that run servers of their own share: a free loopback port, and running a command to its end.</summary>
public static class LocalProcesses
{
    /// <summary>Sends SIGKILL to <paramref name="pid"/>: the process gets no chance to say goodbye.</summary>
    public static void Kill9(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // already gone
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs <paramref name="start"/> to its end and returns its output; a non-zero exit is an exception carrying what it printed.</summary>
    public static async Task<string> RunAsync(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await error}{await output}");
        }

        return await output;
    }
}
