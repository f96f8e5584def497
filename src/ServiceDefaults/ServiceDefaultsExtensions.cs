using Microsoft.Extensions.Configuration;
using EdgeSigner.Client;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using EdgeSigner.ServiceDefaults.Observability;
using Serilog;
using Serilog.Formatting.Compact;

namespace EdgeSigner.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>Tag of the health checks that <c>/readyz</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Serilog (JSON in distributed mode), problem details, health checks and the system clock.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        var json = DeploymentMode.IsDistributed(builder.Configuration);
        builder.Services.AddSerilog((services, logger) =>
        {
            // Quiet defaults first, so that Serilog:MinimumLevel settings in configuration can override them.
            logger.MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Command", Serilog.Events.LogEventLevel.Fatal)
                .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", Serilog.Events.LogEventLevel.Error)
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                // A configuration mistake is printed once, as one line, by ServiceProgram; the host's own report of it
                // (with its stack trace) would bury that line.
                .Filter.ByExcluding(e => e.Exception is not null && StartupFailure.Describe(e.Exception) is not null)
                // What MassTransit says when a host that failed to start stops a bus that never started: noise.
                .Filter.ByExcluding(e => e.MessageTemplate.Text.StartsWith("Failed to stop bus", StringComparison.Ordinal)
                    && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).EndsWith("(Not Started)", StringComparison.Ordinal))
                .Enrich.FromLogContext()
                .Enrich.WithProperty("service", builder.Environment.ApplicationName);
            // Written by a background thread (Serilog.Sinks.Async), so a request never waits on the console's lock.
            if (json)
            {
                logger.WriteTo.Async(sink => sink.Console(new RenderedCompactJsonFormatter()));
            }
            else
            {
                logger.WriteTo.Async(sink => sink.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}"));
            }
        });
        // The host is started only when the bus is: every queue and binding exists before the service reports ready
        // (a message published before its binding exists would be dropped by the broker).
        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(60);
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        builder.AddEdgeSignerTelemetry();
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>
    /// Selects the transport: RabbitMQ from <c>ConnectionStrings:RabbitMq</c> (an amqp:// URI, credentials in its
    /// user-info part; a cluster's nodes in <see cref="RabbitMqCluster"/>), else the
    /// in-memory transport of embedded mode. Endpoints come from the consumer definitions.
    /// </summary>
    public static void UsingEdgeSignerTransport(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        var rabbit = configuration.GetConnectionString(DeploymentMode.RabbitMqConnectionName);
        if (string.IsNullOrWhiteSpace(rabbit))
        {
            bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            return;
        }

        if (!Uri.TryCreate(rabbit, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps" or "rabbitmq" or "rabbitmqs"))
        {
            throw new InvalidSettingException("ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI.");
        }

        var nodes = RabbitMqCluster.Nodes(configuration);
        bus.UsingRabbitMq((context, cfg) =>
        {
            cfg.Host(uri, host =>
            {
                if (nodes.Count > 0)
                {
                    host.UseCluster(cluster =>
                    {
                        foreach (var node in nodes)
                        {
                            cluster.Node(node);
                        }
                    });
                }

                if (!string.IsNullOrEmpty(uri.UserInfo))
                {
                    var parts = uri.UserInfo.Split(':', 2);
                    host.Username(Uri.UnescapeDataString(parts[0]));
                    host.Password(parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
                }

                host.PublisherConfirmation = true;
            });

            // Every message says who sent it: RabbitMQ refuses a user_id that is not the connection's own user, so a
            // worker can tell EdgeSigner's services from a tenant's (docs/bus-clients.md).
            cfg.UseBrokerIdentity(DeploymentMode.RabbitMqUser(configuration)!, ownNames: false);
            cfg.ConfigureEndpoints(context);
        });
    }

    /// <summary><c>/healthz</c> (the process is alive) and <c>/readyz</c> (every check tagged ready passes).</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseSerilogRequestLogging();
        app.MapEdgeSignerTelemetry();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsJsonAsync(new
                {
                    status = report.Status.ToString(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
                    // What a check that did not pass says about why (a kid that names two keys, say).
                    problems = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy && e.Value.Description is not null)
                        .ToDictionary(e => e.Key, e => e.Value.Description),
                });
            },
        });
        return app;
    }
}
