using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeSigner.AuditSink.Hosting;
using EdgeSigner.Contracts.Audit;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Admin;
using EdgeSigner.Ingress.Batches;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.Observability;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Ingress.Security;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.SignWorker.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EdgeSigner.Ingress.Hosting;

public static class IngressPolicies
{
    public const string Tenant = "tenant";
    public const string Admin = "admin";
}

public static class IngressHosting
{
    /// <summary>
    /// The ingress, and in embedded mode (no <c>ConnectionStrings:RabbitMq</c>) the worker and the audit sink in the
    /// same process over the in-memory transport, with SQLite stores and local keys.
    /// </summary>
    public static WebApplicationBuilder AddIngress(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var embedded = !DeploymentMode.IsDistributed(configuration);
        var postgres = DeploymentMode.PostgresConnectionString(configuration);
        if (!embedded && postgres is null)
        {
            throw new InvalidSettingException(
                "ConnectionStrings:RabbitMq is set but ConnectionStrings:Audit is not: distributed mode needs both.");
        }

        var devCredentials = embedded ? DevCredentials.Resolve(configuration) : null;

        builder.AddServiceDefaults();
        builder.ListenByDefaultOn(8080);
        var services = builder.Services;
        services.AddSingleton<IngressMetrics>();
        services.AddExceptionHandler<OutageExceptionHandler>();
        services.AddOptions<AuthFailureOptions>().BindConfiguration(AuthFailureOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuthFailureLimiter>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            var extensions = context.ProblemDetails.Extensions;
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            extensions.TryAdd("error_type", Problems.ErrorTypeOf(status));
            if (!extensions.TryGetValue("request_id", out var id) || id is null)
            {
                // A sign request's own id (as in its log line) when it has one, else the connection's trace identifier.
                extensions["request_id"] = context.HttpContext.Features.Get<SignLogFeature>()?.RequestId.ToString()
                    ?? context.HttpContext.TraceIdentifier;
            }
        });

        services.AddOptions<SignApiOptions>().BindConfiguration(SignApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EdgeSignerFlags>().BindConfiguration(EdgeSignerFlagsValidator.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EdgeSignerFlags>, EdgeSignerFlagsValidator>();
        services.AddDbContext<IngressDbContext>(options => IngressDbContext.Configure(options, postgres, builder.Environment.ContentRootPath));
        services.AddDatabaseLifecycle<IngressDbContext>();
        services.AddFlagsState();
        services.AddScoped<FlagStore>();
        services.AddHostedService<FlagsReloader>();
        services.AddSingleton<RouteGuard>();
        services.AddSingleton<CircuitBreakerView>();
        services.AddSingleton<PublishedKeys>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<TenantRateLimiter>();
        services.AddScoped<TenantAdminEndpoints.AccessChanges>();
        services.AddHostedService<PublishedKeysLoader>();
        services.AddHostedService<SigningKeysRequest>();
        services.AddScoped<IdempotencyKeys>();
        services.AddScoped<BatchStore>();
        services.AddScoped<BusTenantGate>();
        services.AddHostedService<IngressPruner>();
        services.AddHealthChecks().AddCheck<RouteGuard>("route", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<PublishedKeys>("signing-keys", tags: [ServiceDefaultsExtensions.ReadyTag]);

        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, TenantAuthenticationHandler>(TenantAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AdminAuthenticationHandler>(AdminAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(IngressPolicies.Tenant, policy => policy
                .AddAuthenticationSchemes(TenantAuthenticationHandler.SchemeName)
                .RequireClaim(TenantAuthenticationHandler.TenantIdClaim))
            .AddPolicy(IngressPolicies.Admin, policy => policy
                .AddAuthenticationSchemes(AdminAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser());

        if (embedded)
        {
            services.AddSignWorkerServices(postgres, builder.Environment.ContentRootPath);
            services.AddAuditSinkServices(configuration, builder.Environment.ContentRootPath);
            services.AddSingleton(devCredentials!);
            services.AddSingleton<ITenantBuckets, InMemoryTenantBuckets>();
            services.AddHostedService<DevTenantSeeder>();
        }
        else
        {
            services.TryAddSingleton(_ => NpgsqlDataSource.Create(postgres!));
            services.AddSingleton<ITenantBuckets, PostgresTenantBuckets>();
            services.AddHostedService<AdminTokenCheck>();
        }

        services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddRequestClient<SignRequested>(SignQueues.SignRequestedAddress);
            bus.AddRequestClient<VerifyAuditTrail>(AuditQueries.Address);
            bus.AddRequestClient<GetComplianceReport>(AuditQueries.Address);
            bus.AddRequestClient<GetKmsQuota>(AuditQueries.Address);
            bus.AddConsumer<BatchItemEndedConsumer, BatchItemEndedConsumerDefinition>();
            bus.AddConsumer<GetBatchStateConsumer, GetBatchStateConsumerDefinition>();
            bus.AddFlagsChangedConsumer();
            bus.AddConsumer<GetFlagsConsumer, GetFlagsConsumerDefinition>();
            bus.AddConsumer<CircuitBreakerStatusConsumer, CircuitBreakerStatusConsumerDefinition>();
            bus.AddConsumer<SigningKeysAnnouncedConsumer, SigningKeysAnnouncedConsumerDefinition>();
            bus.AddConsumer<TenantAccessChangedConsumer, TenantAccessChangedConsumerDefinition>();
            bus.AddConsumer<AdmitBusRequestConsumer, AdmitBusRequestConsumerDefinition>();
            bus.AddConsumer<SubmitBusBatchConsumer, SubmitBusBatchConsumerDefinition>();
            if (embedded)
            {
                bus.AddSignWorkerConsumers();
                bus.AddAuditSinkConsumers();
            }

            bus.UsingEdgeSignerTransport(configuration);
        });
        return builder;
    }

    public static WebApplication MapIngress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapServiceDefaults();
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/admin"), admin => admin.UseMiddleware<AdminAuditMiddleware>());
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/v1") || context.Request.Path.StartsWithSegments("/admin"),
            guarded => guarded.UseMiddleware<AuthFailureGuard>());
        app.UseAuthentication();
        app.UseAuthorization();

        var v1 = app.MapGroup("/v1");
        v1.MapSigning();
        v1.MapKeys();
        v1.MapBatches();

        app.MapGroup("/admin").RequireAuthorization(IngressPolicies.Admin).MapTenantAdmin().MapFlagsAdmin().MapCircuitBreakerAdmin().MapAuditAdmin().MapRateLimiterAdmin()
            .MapStatusPage();
        return app;
    }
}
