namespace EdgeSigner.Ingress.Tenants;

/// <summary>An organisation that signs. Id: <c>^[a-z0-9][a-z0-9-]{0,62}$</c>.</summary>
public sealed class Tenant
{
    public string TenantId { get; set; } = string.Empty;
    public bool Disabled { get; set; }

    /// <summary>Token bucket rate; the default applies when null.</summary>
    public int? RatePerSecond { get; set; }

    /// <summary>Token bucket size; the default applies when null.</summary>
    public int? Burst { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<TenantApiKey> ApiKeys { get; set; } = [];
}

/// <summary>An API key of a tenant, stored only as its SHA-256.</summary>
public sealed class TenantApiKey
{
    public string KeyId { get; set; } = string.Empty;
    public string TenantId { get; set; } = string.Empty;
    public byte[] KeyHash { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// A RabbitMQ user of a tenant's own service, allowed to sign as that tenant on the bus. One user serves one tenant;
/// the name is the broker's (it validates each message's <c>user_id</c> against the connection's user).
/// </summary>
public sealed class TenantBrokerUser
{
    public string BrokerUser { get; set; } = string.Empty;
    public string TenantId { get; set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; set; }
}
