using EdgeSigner.AuditSink.Hosting;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.SignWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.Testing;

/// <summary>
/// One EdgeSigner service running in the test process, built exactly as its Program.cs builds it, on a free
/// loopback port, with the configuration the test gives.
/// </summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private ServiceHost(WebApplication app, string url)
    {
        App = app;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url) };
    }

    public WebApplication App { get; }
    public string Url { get; }
    public HttpClient Http { get; }
    public IServiceProvider Services => App.Services;

    /// <param name="clock">The service's clock; the system's when null (a test pins it with a FakeTimeProvider).</param>
    public static Task<ServiceHost> StartIngressAsync(IDictionary<string, string?> configuration, string contentRoot, TimeProvider? clock = null) =>
        StartAsync(configuration, contentRoot, clock, b => b.AddIngress(), a => a.MapIngress());

    public static Task<ServiceHost> StartWorkerAsync(IDictionary<string, string?> configuration, string contentRoot, TimeProvider? clock = null) =>
        StartAsync(configuration, contentRoot, clock, b => b.AddSignWorker(), a => a.MapServiceDefaults());

    public static Task<ServiceHost> StartAuditSinkAsync(IDictionary<string, string?> configuration, string contentRoot, TimeProvider? clock = null) =>
        StartAsync(configuration, contentRoot, clock, b => b.AddAuditSink(), a => a.MapServiceDefaults());

    private static async Task<ServiceHost> StartAsync(
        IDictionary<string, string?> configuration, string contentRoot, TimeProvider? clock, Action<WebApplicationBuilder> add, Action<WebApplication> map)
    {
        Directory.CreateDirectory(contentRoot);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = contentRoot });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        add(builder);
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock); // the last registration wins
        }

        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServiceHost(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
