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

    /// <summary>The node's Erlang name (<c>name@localhost</c>), as <c>rabbitmqctl -n</c> and <c>join_cluster</c> take it.</summary>
    public string NodeName => _node;

    /// <summary>
    /// Starts a node of its own; nodes meant to form a cluster share <paramref name="cookie"/>. <paramref name="config"/>,
    /// if given, is the node's <c>rabbitmq.conf</c>.
    /// </summary>
    public static async Task<LocalRabbitMq> StartAsync(string? cookie = null, string? config = null)
    {
        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException(
                "This test runs a RabbitMQ node of its own and needs Debian's rabbitmq-server package (scripts/test.sh installs it).");
        }

        var home = Directory.CreateTempSubdirectory("edgesigner-rabbit-").FullName;
        await File.WriteAllTextAsync(Path.Combine(home, "enabled_plugins"), "[].");
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(home, "rabbitmq.conf"), config);
        }
        // The node's own Erlang cookie, written before the server or the CLI could each make up a different one.
        var cookieFile = Path.Combine(home, ".erlang.cookie");
        await File.WriteAllTextAsync(cookieFile, cookie ?? NewCookie());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookieFile, UnixFileMode.UserRead);
        }

        var broker = new LocalRabbitMq(home, $"edgesigner-{Guid.NewGuid().ToString("N")[..8]}@localhost", LocalProcesses.FreePort());
        broker._distPort = LocalProcesses.FreePort();
        await broker.StartNodeAsync();
        return broker;
    }

    public static string NewCookie() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private int _distPort;

    /// <summary>Starts the node's Erlang VM (again, after <see cref="Kill"/>: with its data, so it rejoins its cluster) and waits for the broker.</summary>
    public async Task StartNodeAsync()
    {
        var start = Command("rabbitmq-server", "-detached");
        start.Environment["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = _distPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_home, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(_home, "log");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_home, "enabled_plugins");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_home, "rabbitmq.conf"); // absent unless given: the defaults
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_home, "none-advanced.config");
        start.Environment["RABBITMQ_PID_FILE"] = PidFile;
        await LocalProcesses.RunAsync(start);
        await AwaitStartupAsync();
    }

    private string PidFile => Path.Combine(_home, "pid");

    private async Task AwaitStartupAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                await CtlAsync("await_startup", "--timeout", "120");
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500); // the node is not registered yet
            }
        }
    }

    /// <summary><c>kill -9</c> of the node's Erlang VM: its connections drop without a close, its queues' replicas go with it.</summary>
    public void Kill()
    {
        var pid = int.Parse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        LocalProcesses.Kill9(pid);
        File.Delete(PidFile);
    }

    /// <summary>Joins this (fresh) node to <paramref name="seed"/>'s cluster (<c>rabbitmqctl join_cluster</c>).</summary>
    public async Task JoinAsync(LocalRabbitMq seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        await CtlAsync("stop_app");
        await CtlAsync("join_cluster", seed.NodeName);
        await CtlAsync("start_app");
        await AwaitStartupAsync();
    }

    /// <summary>
    /// Cuts this node off from <paramref name="peers"/> and them from it, as a network partition does, for the Erlang
    /// distribution the cluster runs on: each side takes a wrong cookie for the other (two different ones: alike, they
    /// would agree), so a connection dropped cannot be made again; then the peers drop theirs while this node is
    /// frozen (SIGSTOP), so that no peer can still reach it in between. A peer that could would tell the others it
    /// still sees this node, and RabbitMQ's pause_minority takes that for a partial partition and pauses the majority
    /// as well; a real partition cannot answer either. The node's clients and its command line still reach it.
    /// </summary>
    public async Task CutOffAsync(IReadOnlyCollection<LocalRabbitMq> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        foreach (var peer in peers)
        {
            await peer.EvalAsync($"erlang:set_cookie({Atom(NodeName)}, 'edgesigner-partition-majority'), ok.");
        }

        var others = string.Join(',', peers.Select(p => Atom(p.NodeName)));
        await EvalAsync($"[erlang:set_cookie(P, 'edgesigner-partition-minority') || P <- [{others}]], ok.");
        await SignalAsync("STOP");
        try
        {
            foreach (var peer in peers)
            {
                await peer.EvalAsync($"erlang:disconnect_node({Atom(NodeName)}).");
            }
        }
        finally
        {
            await SignalAsync("CONT");
        }
    }

    private async Task SignalAsync(string signal) =>
        await LocalProcesses.RunAsync(new ProcessStartInfo("kill", ["-" + signal, (await File.ReadAllTextAsync(PidFile)).Trim()]));

    /// <summary>Ends <see cref="CutOffAsync"/>: the right cookie on every side, and the nodes see each other again.</summary>
    public async Task ReconnectAsync(IReadOnlyCollection<LocalRabbitMq> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var others = string.Join(',', peers.Select(p => Atom(p.NodeName)));
        await EvalAsync($"[erlang:set_cookie(P, erlang:get_cookie()) || P <- [{others}]], ok.");
        foreach (var peer in peers)
        {
            await peer.EvalAsync($"erlang:set_cookie({Atom(NodeName)}, erlang:get_cookie()), net_adm:ping({Atom(NodeName)}).");
        }
    }

    /// <summary>The names of the cluster's nodes whose broker runs, as this node sees them (<c>rabbitmqctl cluster_status</c>).</summary>
    public async Task<IReadOnlyList<string>> RunningNodesAsync()
    {
        var json = await QueryAsync("cluster_status", "--formatter", "json");
        return System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("running_nodes").EnumerateArray().Select(n => n.GetString()!).ToList();
    }

    private static string Atom(string name) => $"'{name}'";

    private Task<string> EvalAsync(string expression) => CtlAsync("eval", expression);

    /// <summary>What <c>rabbitmqctl</c> prints for <paramref name="arguments"/>, asked of this node.</summary>
    public Task<string> QueryAsync(params string[] arguments) => LocalProcesses.RunAsync(Command("rabbitmqctl", ["-n", _node, "-q", .. arguments]));

    /// <summary>Stops the broker (its listener closes, every connection drops); the node stays, ready to start again.</summary>
    public Task StopBrokerAsync() => CtlAsync("stop_app");

    public Task StartBrokerAsync() => CtlAsync("start_app");

    private Task<string> CtlAsync(params string[] arguments) => LocalProcesses.RunAsync(Command("rabbitmqctl", ["-n", _node, .. arguments]));

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
        catch (InvalidOperationException) when (File.Exists(PidFile))
        {
            Kill(); // a node that would not stop
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        Directory.Delete(_home, recursive: true);
    }
}
