using EdgeSigner.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The ingress in embedded mode (in-memory bus, local key, SQLite), as 'dotnet run --project src/Ingress' runs it.</summary>
public sealed class EmbeddedIngressFixture : IAsyncLifetime
{
    public const string DevApiKey = "esk_test-dev-key-0123456789abcdefghijklmnop";
    public const string AdminToken = "adm_test-admin-token-0123456789";
    public const int MaxPayload = 1000;

    private readonly string _root = Directory.CreateTempSubdirectory("edgesigner-embedded-").FullName;

    public ServiceHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServiceHost.StartIngressAsync(new Dictionary<string, string?>
    {
        ["EdgeSigner:Dev:ApiKey"] = DevApiKey,
        ["EdgeSigner:Admin:Token"] = AdminToken,
        ["EdgeSigner:Flags:MaxPayloadSize"] = MaxPayload.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["EdgeSigner:Signing:Keys:0:Kid"] = "es256-embedded",
        ["EdgeSigner:Signing:Keys:0:Edge:KeyFile"] = "data/keys/es256-embedded.pem",
        ["EdgeSigner:Signing:Keys:0:Central:KeyFile"] = "data/keys/es256-embedded.pem",
    }, _root);

    public HttpClient Client(string? bearer)
    {
        var client = new HttpClient { BaseAddress = new Uri(Host.Url) };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
