using System.Diagnostics;

namespace EdgeSigner.Testing;

/// <summary>
/// A RabbitMQ node of a test's own (Debian's rabbitmq-server, its own ports, data and cookie, no plugins), so the
/// test can stop the broker and start it again without touching the server every other test shares.
/// </summary>
public sealed class LocalRabbitMq : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _home;
    private readonly string _node;

    private LocalRabbitMq(string home, string node, int port)
    {
        _home = home;
        _node = node;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The guest user's amqp:// URI (guest may connect from loopback).</summary>
    public string AmqpUri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<LocalRabbitMq> StartAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException(
                "This test runs a RabbitMQ node of its own and needs Debian's rabbitmq-server package (scripts/test.sh installs it).");
        }

        var home = Directory.CreateTempSubdirectory("edgesigner-rabbit-").FullName;
        await File.WriteAllTextAsync(Path.Combine(home, "enabled_plugins"), "[].");
        // The node's own Erlang cookie, written before the server or the CLI could each make up a different one.
        var cookie = Path.Combine(home, ".erlang.cookie");
        await File.WriteAllTextAsync(cookie, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }
        var broker = new LocalRabbitMq(home, $"edgesigner-{Guid.NewGuid().ToString("N")[..8]}@localhost", LocalProcesses.FreePort());
        var start = broker.Command("rabbitmq-server", "-detached");
        start.Environment["RABBITMQ_NODE_PORT"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = LocalProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(home, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(home, "log");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(home, "enabled_plugins");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(home, "none");
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(home, "none-advanced.config");
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(home, "pid");
        await LocalProcesses.RunAsync(start);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                await broker.CtlAsync("await_startup", "--timeout", "90");
                return broker;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // the node is not registered yet
            }
        }
    }

    /// <summary>Stops the broker (its listener closes, every connection drops); the node stays, ready to start again.</summary>
    public Task StopBrokerAsync() => CtlAsync("stop_app");

    public Task StartBrokerAsync() => CtlAsync("start_app");

    private Task CtlAsync(params string[] arguments) => LocalProcesses.RunAsync(Command("rabbitmqctl", ["-n", _node, .. arguments]));

    private ProcessStartInfo Command(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(Bin, program)) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _home };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = _home; // its own Erlang cookie
        start.Environment["RABBITMQ_NODENAME"] = _node;
        return start;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CtlAsync("stop");
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        Directory.Delete(_home, recursive: true);
    }
}
