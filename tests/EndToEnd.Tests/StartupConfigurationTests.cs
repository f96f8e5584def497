using System.Text.RegularExpressions;
using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// A table of configuration mistakes, each run as a real process of its service: it must stop by itself with a
/// non-zero exit code and print nothing but one line per problem, naming the setting; never a stack trace.
/// </summary>
public sealed partial class StartupConfigurationTests(StartupConfigurationTests.Servers servers) : IClassFixture<StartupConfigurationTests.Servers>
{
    /// <summary>A broker and database for the distributed cases, and a file that is not a key.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        public Pipeline Pipeline { get; private set; } = null!;
        public string NotAKey { get; } = Path.Combine(Path.GetTempPath(), $"edgesigner-not-a-key-{Guid.NewGuid():N}.pem");

        public async Task InitializeAsync()
        {
            Pipeline = await Pipeline.CreateAsync();
            await File.WriteAllTextAsync(NotAKey, "this is not a PEM key\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(NotAKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        public async Task DisposeAsync()
        {
            File.Delete(NotAKey);
            await Pipeline.DisposeAsync();
        }
    }

    public static TheoryData<string, string, string, string> Mistakes() => new()
    {
        // service, the mistake (setting=value; ...), which connection it runs with, the setting the message must name
        { "Ingress", "EdgeSigner:Signing:ActiveKid=no-such-kid", "embedded", "EdgeSigner:Signing:ActiveKid" },
        { "Ingress", "EdgeSigner:Signing:Keys:0:Kid=k1;EdgeSigner:Signing:Keys:0:Edge:KeyFile={notakey};EdgeSigner:Signing:Keys:0:Central:KeyFile={notakey}", "embedded", "EdgeSigner:Signing:Keys:0:" },
        { "Ingress", "EdgeSigner:Signing:Keys:0:Kid=k1;EdgeSigner:Signing:Keys:0:Edge:Backend=Kms;EdgeSigner:Signing:Keys:0:Central:KeyFile=k.pem", "embedded", "EdgeSigner:Signing:Keys:0:Edge:KmsKeyId" },
        { "Ingress", "EdgeSigner:Api:SyncTimeoutMs=-5", "embedded", "EdgeSigner:Api:SyncTimeoutMs" },
        { "Ingress", "EdgeSigner:Api:SyncTimeoutMs=soon", "embedded", "EdgeSigner:Api:SyncTimeoutMs" },
        { "Ingress", "EdgeSigner:Dev:ApiKey=short", "embedded", "EdgeSigner:Dev:ApiKey" },
        { "Ingress", "ConnectionStrings:RabbitMq=amqp://guest:guest@127.0.0.1:5672/", "embedded", "ConnectionStrings:Audit" },
        { "Ingress", "ConnectionStrings:RabbitMq=http://example", "embedded", "ConnectionStrings:RabbitMq" },
        { "Ingress", "EdgeSigner:Flags:MaxPayloadSize=0", "embedded", "EdgeSigner:Flags:MaxPayloadSize" },
        { "Ingress", "EdgeSigner:Flags:TenantAllowlist:0=Not A Tenant", "embedded", "EdgeSigner:Flags:TenantAllowlist" },
        { "Ingress", "EdgeSigner:Admin:Token=too-short", "embedded", "EdgeSigner:Admin:Token" },
        { "SignWorker", "", "embedded", "ConnectionStrings:RabbitMq" },
        { "SignWorker", "", "distributed-without-keys", "EdgeSigner:Signing:Keys" },
        { "SignWorker", "EdgeSigner:Signing:Keys:0:Edge:KmsKeyId=", "distributed", "EdgeSigner:Signing:Keys:0:Edge:KmsKeyId" },
        { "SignWorker", "EdgeSigner:FailurePolicy:MaxRetries=-1", "distributed", "EdgeSigner:FailurePolicy:MaxRetries" },
        { "SignWorker", "EdgeSigner:RabbitMq:ClusterNodes=rabbit-1:5672,rabbit 2:99999", "distributed", "EdgeSigner:RabbitMq:ClusterNodes" },
        { "AuditSink", "", "embedded", "ConnectionStrings:Audit" },
        { "AuditSink", "EdgeSigner:Retention:RequestLogDays=0", "distributed", "EdgeSigner:Retention:RequestLogDays" },
        { "AuditSink", "EdgeSigner:KmsBudget:DefaultRatePerSecond=0", "distributed", "EdgeSigner:KmsBudget:DefaultRatePerSecond" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task A_configuration_mistake_stops_the_service_with_one_line_that_names_the_setting(
        string service, string mistake, string connection, string setting)
    {
        var settings = connection switch
        {
            "embedded" => new Dictionary<string, string?>(),
            "distributed" => new Dictionary<string, string?>(servers.Pipeline.Settings),
            _ => servers.Pipeline.Settings.Where(s => !s.Key.StartsWith("EdgeSigner:Signing:Keys", StringComparison.Ordinal))
                .ToDictionary(s => s.Key, s => s.Value),
        };
        foreach (var assignment in mistake.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = (assignment[..assignment.IndexOf('=', StringComparison.Ordinal)], assignment[(assignment.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            settings[name] = value.Replace("{notakey}", servers.NotAKey, StringComparison.Ordinal);
        }

        var start = ServiceProcess.Dll($"EdgeSigner.{service}", settings);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{LocalProcesses.FreePort()}";
        var (exitCode, output) = await ServiceProcess.RunToExitAsync(start, TimeSpan.FromSeconds(60));

        var printed = string.Join('\n', output);
        Assert.NotEqual(0, exitCode);
        Assert.NotEmpty(output);
        Assert.All(output, line => Assert.StartsWith($"{service}: configuration error: ", line, StringComparison.Ordinal));
        Assert.Contains(output, line => line.Contains(setting, StringComparison.Ordinal));
        Assert.DoesNotMatch(StackFrame(), printed);
    }

    [GeneratedRegex(@"^\s+at |Exception:|--- End of", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
