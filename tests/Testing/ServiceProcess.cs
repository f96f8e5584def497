using System.Diagnostics;

namespace EdgeSigner.Testing;

/// <summary>
/// An EdgeSigner service as a real process (<c>dotnet EdgeSigner.X.dll</c> from the test output), configured by
/// environment variables and killed with SIGKILL when a test says so: for tests that crash things on purpose.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _workingDirectory;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private ServiceProcess(Process process, string url, string workingDirectory, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        Url = url;
        _workingDirectory = workingDirectory;
        _output = output;
    }

    /// <summary>Every line the process wrote to standard output and standard error so far.</summary>
    public IReadOnlyList<string> Output => _output.ToArray();

    public string Url { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    private const string OwnDirectoryPrefix = "edgesigner-process-";

    /// <summary>The build configuration the tests (and so the services beside them) were built in.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>Starts <c>dotnet {assemblyName}.dll</c> from the test output on a free port and waits until it is ready.</summary>
    public static Task<ServiceProcess> StartAsync(string assemblyName, IReadOnlyDictionary<string, string?> settings)
    {
        var port = LocalProcesses.FreePort();
        var start = Dll(assemblyName, settings);
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        return StartAsync(start, $"http://127.0.0.1:{port}");
    }

    /// <summary>
    /// <c>dotnet {assemblyName}.dll</c> from the test output, configured by environment variables (<c>:</c> as
    /// <c>__</c>), in a fresh working directory unless one is given.
    /// </summary>
    public static ProcessStartInfo Dll(string assemblyName, IReadOnlyDictionary<string, string?> settings, string? workingDirectory = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{assemblyName}.dll is not in the test output.", dll);
        }

        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory ?? Directory.CreateTempSubdirectory(OwnDirectoryPrefix).FullName };
        start.ArgumentList.Add(dll);
        Configure(start, settings);
        return start;
    }

    /// <summary>
    /// <c>dotnet run --no-build -c {Configuration} --project src/{project}</c> from the repository root, as the README
    /// runs a service (its project folder is its content root), with the build the tests use.
    /// </summary>
    public static ProcessStartInfo Project(string project, IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Repository.Root };
        foreach (var argument in new[] { "run", "--no-build", "-c", Configuration, "--project", $"src/{project}" })
        {
            start.ArgumentList.Add(argument);
        }

        Configure(start, settings);
        return start;
    }

    private static void Configure(ProcessStartInfo start, IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? string.Empty;
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
    }

    /// <summary>Starts <paramref name="start"/> and waits until <paramref name="url"/> answers <paramref name="readyPath"/> with success.</summary>
    public static async Task<ServiceProcess> StartAsync(ProcessStartInfo start, string url, string readyPath = "/readyz")
    {
        ArgumentNullException.ThrowIfNull(start);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var output = Collect(process);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"{string.Join(' ', start.ArgumentList)} exited at start with code {process.ExitCode}:\n{string.Join('\n', output.TakeLast(20))}");
            }

            try
            {
                if ((await http.GetAsync(url + readyPath)).IsSuccessStatusCode)
                {
                    return new ServiceProcess(process, url, start.WorkingDirectory, output);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"{string.Join(' ', start.ArgumentList)} was not ready at {url} within 60 s:\n{string.Join('\n', output.TakeLast(20))}");
    }

    /// <summary>Runs <paramref name="start"/> until it exits by itself (at most <paramref name="within"/>): its exit code and every line it printed.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Output)> RunToExitAsync(ProcessStartInfo start, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var output = Collect(process);
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', start.ArgumentList)} was still running after {within.TotalSeconds} s:\n{string.Join('\n', output)}");
        }

        process.WaitForExit(); // the output is read to its end
        return (process.ExitCode, output.ToArray());
    }

    private static System.Collections.Concurrent.ConcurrentQueue<string> Collect(Process process)
    {
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    /// <summary>SIGKILL: no shutdown, no acknowledgements, no goodbyes.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (Path.GetFileName(_workingDirectory).StartsWith(OwnDirectoryPrefix, StringComparison.Ordinal))
        {
            Directory.Delete(_workingDirectory, recursive: true); // only a directory Dll() made for this process
        }
    }
}
