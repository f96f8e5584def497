using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EdgeSigner.ServiceDefaults.Observability;

/// <summary>
/// OpenTelemetry for every service: EdgeSigner's own meters beside MassTransit's, ASP.NET Core's, Npgsql's,
/// HttpClient's (the AWS SDK's KMS calls) and the runtime's, on a Prometheus endpoint (<c>/metrics</c>); traces
/// across ingress, bus, worker, KMS and sink, exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class Telemetry
{
    /// <summary>The prefix of every EdgeSigner meter; each service has its own (<c>EdgeSigner.SignWorker</c>, ...).</summary>
    public const string MeterPrefix = "EdgeSigner";

    public static IHostApplicationBuilder AddEdgeSignerTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ProcessMetrics>();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddMeter($"{MeterPrefix}.*", "MassTransit", "Npgsql", "System.Runtime", "System.Net.Http",
                    "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
                    "Microsoft.AspNetCore.RateLimiting")
                .AddPrometheusExporter());

        // Spans are recorded only when someone takes them: an OTLP endpoint, or EdgeSigner:Tracing:Enabled (for a
        // listener in the same process). Recording every span of every request for nobody costs CPU on each one.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (otlp || builder.Configuration.GetValue("EdgeSigner:Tracing:Enabled", false))
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/healthz")
                    && !context.Request.Path.StartsWithSegments("/readyz"))
                .AddHttpClientInstrumentation()
                .AddSource("MassTransit")
                .AddNpgsql());
        }

        if (otlp)
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary><c>/metrics</c> in Prometheus's text format; resolves the process gauges so they are registered.</summary>
    public static WebApplication MapEdgeSignerTelemetry(this WebApplication app)
    {
        app.Services.GetRequiredService<ProcessMetrics>();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}
