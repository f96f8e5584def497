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

    /// <summary>The Npgsql connection string, or null when the embedded store is used.</summary>
    public static string? PostgresConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(AuditConnectionName) is { Length: > 0 } value ? value : null;
}
