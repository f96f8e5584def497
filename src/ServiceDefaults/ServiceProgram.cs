using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// What each service's <c>Program.cs</c> runs: the two-stage Serilog bootstrap, the service's own
/// <c>Add…</c>/<c>Map…</c> extensions, and one exit path. A configuration mistake ends the process with exit code 2
/// and one line per problem on standard error, naming the setting (<see cref="StartupFailure"/>); anything else is
/// logged as a fatal error with its stack trace, exit code 1.
/// </summary>
public static class ServiceProgram
{
    public static async Task<int> RunAsync(string name, string[] args, Action<WebApplicationBuilder> add, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(add);
        ArgumentNullException.ThrowIfNull(map);
        Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            add(builder);
            var app = builder.Build();
            // Options are validated here, before the host starts anything, so a mistake stops the process before
            // any component has started (and has to be stopped again, saying so in the log).
            app.Services.GetService<IStartupValidator>()?.Validate();
            map(app);
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (ex is not HostAbortedException && StartupFailure.Describe(ex) is { } problems)
        {
            await Log.CloseAndFlushAsync();
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync($"{name}: configuration error: {problem}");
            }

            return 2;
        }
        catch (Exception ex) when (ex is not HostAbortedException)
        {
            Log.Fatal(ex, "{Service} stopped: {Reason}", name, ex.Message);
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }
}
