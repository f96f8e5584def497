using EdgeSigner.Testing;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>
/// Each service, as a real process, listens where ASP.NET Core's conventions say: <c>ASPNETCORE_URLS</c>,
/// <c>ASPNETCORE_HTTP_PORTS</c>, <c>--urls</c> and a Kestrel endpoint setting; with none of them, on its own default
/// (8080, 8081, 8082 on loopback). Also: the ingress started from a directory that holds no appsettings.json.
/// </summary>
public sealed class ListeningAddressTests(ListeningAddressTests.Servers servers) : IClassFixture<ListeningAddressTests.Servers>
{
    /// <summary>The broker and database the worker and the sink need to start (the ingress runs embedded).</summary>
    public sealed class Servers : IAsyncLifetime
    {
        public Pipeline Pipeline { get; private set; } = null!;

        public async Task InitializeAsync() => Pipeline = await Pipeline.CreateAsync();

        public async Task DisposeAsync() => await Pipeline.DisposeAsync();
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var service in new[] { "Ingress", "SignWorker", "AuditSink" })
        {
            foreach (var convention in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "--urls", "Kestrel:Endpoints", "default" })
            {
                data.Add(service, convention);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_service_listens_where_the_aspnet_core_convention_says(string service, string convention)
    {
        var port = convention == "default" ? DefaultPort(service) : LocalProcesses.FreePort();
        var start = ServiceProcess.Dll($"EdgeSigner.{service}", Settings(service));
        switch (convention)
        {
            case "ASPNETCORE_URLS":
                start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
                break;
            case "ASPNETCORE_HTTP_PORTS":
                start.Environment["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "--urls":
                start.ArgumentList.Add("--urls");
                start.ArgumentList.Add($"http://127.0.0.1:{port}");
                break;
            case "Kestrel:Endpoints":
                start.Environment["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{port}";
                break;
        }

        await using var process = await ServiceProcess.StartAsync(start, $"http://127.0.0.1:{port}", "/healthz");

        Assert.False(process.HasExited);
    }

    [Fact]
    public async Task The_ingress_started_from_a_directory_without_appsettings_signs_with_its_defaults()
    {
        var directory = Directory.CreateTempSubdirectory("edgesigner-elsewhere-").FullName;
        try
        {
            var port = LocalProcesses.FreePort();
            var start = ServiceProcess.Dll("EdgeSigner.Ingress", new Dictionary<string, string?> { ["EdgeSigner:Dev:ApiKey"] = "esk_elsewhere_0123456789abcdef" }, directory);
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            await using var ingress = await ServiceProcess.StartAsync(start, $"http://127.0.0.1:{port}");
            using var client = Pipeline.TenantClient("esk_elsewhere_0123456789abcdef", ingress.Url);

            var response = await client.PostAsync("/v1/sign", new StringContent("""{"payload":"aGk="}""", System.Text.Encoding.UTF8, "application/json"));

            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            var result = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
            var key = (await Jwks.FetchAsync(client))[result.GetProperty("kid").GetString()!];
            Assert.True(key.VerifyData("hi"u8.ToArray(), Convert.FromBase64String(result.GetProperty("signature_der").GetString()!),
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence));
            Assert.True(File.Exists(Path.Combine(directory, "data", "keys", "es256-dev-1.pem")), "the dev key is created under the working directory");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int DefaultPort(string service) => service switch
    {
        "Ingress" => 8080,
        "SignWorker" => 8081,
        _ => 8082,
    };

    private Dictionary<string, string?> Settings(string service) => service == "Ingress"
        ? new Dictionary<string, string?>()
        : new Dictionary<string, string?>(servers.Pipeline.Settings);
}
