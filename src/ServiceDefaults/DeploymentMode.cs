using Microsoft.Extensions.Configuration;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// Embedded: no broker configured; one process hosts everything over MassTransit's in-memory transport.
/// Distributed: <c>ConnectionStrings:RabbitMq</c> (and, for stores, <c>ConnectionStrings:Audit</c>) are set.
/// </summary>
public static class DeploymentMode
{
    public const string RabbitMqConnectionName = "RabbitMq";
    public const string AuditConnectionName = "Audit";

    public static bool IsDistributed(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RabbitMqConnectionName));

    /// <summary>
    /// <c>ConnectionStrings:Audit</c>, with a connection pool of at most <see cref="DefaultMaxPoolSize"/> per process
    /// unless the string sets <c>Maximum Pool Size</c> itself: Npgsql's default of 100 per pool, times the services
    /// and their pools, exceeds PostgreSQL's default of 100 connections, and under load the server then refuses
    /// connections ("remaining connection slots are reserved"). With the bound, load waits for a pooled connection.
    /// </summary>
    public static string? PostgresConnectionString(IConfiguration configuration)
    {
        if (configuration.GetConnectionString(AuditConnectionName) is not { Length: > 0 } value)
        {
            return null;
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(value);
        if (!System.Text.RegularExpressions.Regex.IsMatch(value, @"(^|;)\s*(Maximum\s*Pool\s*Size|MaxPoolSize)\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// The RabbitMQ user this process connects as: the user-info of <c>ConnectionStrings:RabbitMq</c>, or
    /// <c>guest</c> (RabbitMQ's and MassTransit's default) when the URI names none; null in embedded mode.
    /// </summary>
    public static string? RabbitMqUser(IConfiguration configuration)
    {
        if (configuration.GetConnectionString(RabbitMqConnectionName) is not { Length: > 0 } value || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            return null;
        }

        return string.IsNullOrEmpty(uri.UserInfo) ? "guest" : Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);
    }

    /// <summary>Connections per pool unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 10;
}
