using Microsoft.Extensions.Configuration;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// The nodes of a RabbitMQ cluster, from <c>EdgeSigner:RabbitMq:ClusterNodes</c> (<c>host[:port]</c>,
/// comma-separated): a service connects to them in order and moves to the next when its node dies (MassTransit's
/// <c>UseCluster</c>). Unset: the host of <c>ConnectionStrings:RabbitMq</c> alone; credentials and virtual host
/// always come from the connection string. Which queues are quorum queues, and their delivery limit, is the virtual
/// host's and its policy's (deploy/rabbitmq/definitions.json, docs/reliability.md): every declaration of a queue,
/// a sender's or a consumer's, then agrees with the others.
/// </summary>
public static class RabbitMqCluster
{
    public const string NodesSetting = "EdgeSigner:RabbitMq:ClusterNodes";

    /// <summary>The nodes of <see cref="NodesSetting"/>, empty when unset; a malformed one stops the service.</summary>
    public static IReadOnlyList<string> Nodes(IConfiguration configuration)
    {
        var value = configuration[NodesSetting];
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var nodes = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var node in nodes)
        {
            var (host, port) = node.LastIndexOf(':') is var colon and > 0 ? (node[..colon], node[(colon + 1)..]) : (node, "5672");
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown || !int.TryParse(port, out var p) || p is < 1 or > 65535)
            {
                throw new InvalidSettingException($"{NodesSetting} must list host[:port] entries separated by commas; '{node}' is not one.");
            }
        }

        return nodes;
    }
}
