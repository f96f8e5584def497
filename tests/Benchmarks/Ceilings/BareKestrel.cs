using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeSigner.Benchmarks.Ceilings;

/// <summary>
/// The HTTP ceiling: a bare Kestrel endpoint (minimal API, JSON in and out, no auth, no bus) answering
/// <c>POST /v1/sign</c> with a body the size of a real answer, in its own process's thread pool (this one).
/// </summary>
public sealed class BareKestrel : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareKestrel(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<BareKestrel> StartAsync()
    {
        var port = EdgeSigner.Testing.LocalProcesses.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var answer = new string('x', 600); // about the size of a /v1/sign answer
        app.MapPost("/v1/sign", async (HttpRequest request) =>
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            return Results.Text($$"""{"signature":"{{answer}}"}""", "application/json");
        });
        await app.StartAsync();
        return new BareKestrel(app, $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
