using System.Text.Json;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Tenants;

namespace EdgeSigner.Ingress.Flags;

/// <summary>The body of <c>POST /admin/flags</c>, exactly as the seed's runbook writes it.</summary>
/// <remarks><see cref="Value"/> is <see cref="JsonValueKind.Undefined"/> when absent and <see cref="JsonValueKind.Null"/> when null.</remarks>
public sealed record FlagCommandBody(string? Action, string? Flag, string? TenantId, string? Service, JsonElement Value);

/// <summary>A validated flag command: what it does to a snapshot, and how the audit trail names it.</summary>
public sealed record FlagCommand(string Action, string? Target, Func<FlagsSnapshot, FlagsSnapshot> Apply)
{
    public const string Service = "edge_signer";

    public static readonly IReadOnlyList<string> FlagNames =
    [
        "edge_signer_enabled", "tenant_allowlist", "max_payload_size", "kms_timeout_ms", "circuit_breaker_enabled", "smart_placement_enabled",
    ];

    /// <summary>The largest <c>max_payload_size</c> a command or the configuration may set.</summary>
    public const int MaxPayloadLimit = 1024 * 1024;

    /// <summary>The most tenants <c>tenant_allowlist</c> may hold.</summary>
    public const int MaxAllowlist = 10_000;

    public const int MinKmsTimeoutMs = 100;
    public const int MaxKmsTimeoutMs = 120_000;

    /// <summary>Checks a command: a wrong action, flag name, type or range gives an error that names it.</summary>
    public static (FlagCommand? Command, string? Error) Parse(FlagCommandBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        switch (body.Action)
        {
            case "update":
                return ParseUpdate(body);
            case "emergency_shutdown":
            case "resume":
            case "remove_route":
            case "restore_route":
                if (body.Service != Service)
                {
                    return (null, $"service must be \"{Service}\" for action {body.Action}.");
                }

                if (body.Flag is not null || body.TenantId is not null || body.Value.ValueKind != JsonValueKind.Undefined)
                {
                    return (null, $"action {body.Action} takes only \"service\".");
                }

                Func<FlagsSnapshot, FlagsSnapshot> apply = body.Action switch
                {
                    "emergency_shutdown" => s => s with { EmergencyShutdown = true },
                    "resume" => s => s with { EmergencyShutdown = false },
                    "remove_route" => s => s with { RouteRemoved = true },
                    _ => s => s with { RouteRemoved = false },
                };
                return (new FlagCommand($"flags.{body.Action}", Service, apply), null);
            default:
                return (null, "action must be one of update, emergency_shutdown, resume, remove_route, restore_route.");
        }
    }

    private static (FlagCommand?, string?) ParseUpdate(FlagCommandBody body)
    {
        if (body.Flag is null || !FlagNames.Contains(body.Flag))
        {
            return (null, $"flag '{body.Flag}' is not a flag; expected one of {string.Join(", ", FlagNames)}.");
        }

        if (body.Service is not null)
        {
            return (null, "action update does not take \"service\".");
        }

        var flag = body.Flag;
        var value = body.Value;
        if (body.TenantId is { } tenantId)
        {
            if (!TenantIds.IsValid(tenantId))
            {
                return (null, "tenant_id must match ^[a-z0-9][a-z0-9-]{0,62}$.");
            }

            return ParseTenantOverride(flag, tenantId, body.Value);
        }

        if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return (null, $"value is required for the global flag {flag}.");
        }

        Func<FlagsSnapshot, FlagsSnapshot>? apply = flag switch
        {
            "edge_signer_enabled" => Bool(value) is { } b ? s => s with { Global = s.Global with { EdgeSignerEnabled = b } } : null,
            "circuit_breaker_enabled" => Bool(value) is { } b ? s => s with { Global = s.Global with { CircuitBreakerEnabled = b } } : null,
            "smart_placement_enabled" => Bool(value) is { } b ? s => s with { Global = s.Global with { SmartPlacementEnabled = b } } : null,
            "max_payload_size" => Int(value, 1, MaxPayloadLimit) is { } n ? s => s with { Global = s.Global with { MaxPayloadSize = n } } : null,
            "kms_timeout_ms" => Int(value, MinKmsTimeoutMs, MaxKmsTimeoutMs) is { } n ? s => s with { Global = s.Global with { KmsTimeoutMs = n } } : null,
            _ => Allowlist(value) is { } list ? s => s with { Global = s.Global with { TenantAllowlist = list } } : null,
        };
        return apply is null ? (null, ExpectedValue(flag)) : (new FlagCommand("flags.update", flag, apply), null);
    }

    private static (FlagCommand?, string?) ParseTenantOverride(string flag, string tenantId, JsonElement v)
    {
        if (flag == "tenant_allowlist")
        {
            return (null, "tenant_allowlist is global only; it takes no tenant_id.");
        }

        if (v.ValueKind == JsonValueKind.Undefined)
        {
            return (null, $"value is required (null clears the tenant's {flag} override).");
        }

        var clear = v.ValueKind == JsonValueKind.Null;
        Func<TenantFlagOverrides, TenantFlagOverrides>? set = flag switch
        {
            "edge_signer_enabled" => clear ? o => o with { EdgeSignerEnabled = null } : Bool(v) is { } b ? o => o with { EdgeSignerEnabled = b } : null,
            "circuit_breaker_enabled" => clear ? o => o with { CircuitBreakerEnabled = null } : Bool(v) is { } b ? o => o with { CircuitBreakerEnabled = b } : null,
            "smart_placement_enabled" => clear ? o => o with { SmartPlacementEnabled = null } : Bool(v) is { } b ? o => o with { SmartPlacementEnabled = b } : null,
            "max_payload_size" => clear ? o => o with { MaxPayloadSize = null } : Int(v, 1, MaxPayloadLimit) is { } n ? o => o with { MaxPayloadSize = n } : null,
            _ => clear ? o => o with { KmsTimeoutMs = null } : Int(v, 100, 120_000) is { } n ? o => o with { KmsTimeoutMs = n } : null,
        };
        if (set is null)
        {
            return (null, ExpectedValue(flag) + " (or null to clear the tenant's override)");
        }

        return (new FlagCommand("flags.update", $"{tenantId}/{flag}", s =>
        {
            var tenants = new Dictionary<string, TenantFlagOverrides>(s.Tenants, StringComparer.Ordinal);
            var updated = set(tenants.GetValueOrDefault(tenantId) ?? new TenantFlagOverrides());
            if (updated.IsEmpty)
            {
                tenants.Remove(tenantId);
            }
            else
            {
                tenants[tenantId] = updated;
            }

            return s with { Tenants = tenants };
        }), null);
    }

    private static string ExpectedValue(string flag) => flag switch
    {
        "max_payload_size" => $"value of max_payload_size must be an integer from 1 to {MaxPayloadLimit}",
        "kms_timeout_ms" => $"value of kms_timeout_ms must be an integer from {MinKmsTimeoutMs} to {MaxKmsTimeoutMs}",
        "tenant_allowlist" => $"value of tenant_allowlist must be an array of at most {MaxAllowlist} tenant ids",
        _ => $"value of {flag} must be true or false",
    };

    private static bool? Bool(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static int? Int(JsonElement value, int min, int max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max ? n : null;

    private static List<string>? Allowlist(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxAllowlist)
        {
            return null;
        }

        var tenants = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !TenantIds.IsValid(item.GetString()))
            {
                return null;
            }

            tenants.Add(item.GetString()!);
        }

        return tenants.Distinct(StringComparer.Ordinal).ToList();
    }
}
