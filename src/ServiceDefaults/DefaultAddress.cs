using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// Each service's own default address (ingress 8080, worker 8081, sink 8082 on loopback), used only when nothing
/// chose one the ASP.NET Core way: <c>ASPNETCORE_URLS</c>, <c>--urls</c> or a <c>Urls</c> setting;
/// <c>ASPNETCORE_HTTP_PORTS</c> / <c>ASPNETCORE_HTTPS_PORTS</c>; or <c>Kestrel:Endpoints</c>. (A <c>Urls</c> key in
/// appsettings.json would outrank the environment variables that containers and orchestrators set, so the
/// defaults live here instead.)
/// </summary>
public static class DefaultAddress
{
    public static WebApplicationBuilder ListenByDefaultOn(this WebApplicationBuilder builder, int port)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var chosen = !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
            || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
            || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
        if (!chosen)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }

        return builder;
    }
}
