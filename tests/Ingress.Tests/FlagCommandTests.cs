using System.Text.Json;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Flags;

namespace EdgeSigner.Ingress.Tests;

public sealed class FlagCommandTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static FlagCommandBody Body(string json) => JsonSerializer.Deserialize<FlagCommandBody>(json, SnakeCase)!;

    private static FlagsSnapshot Apply(string json, FlagsSnapshot? start = null)
    {
        var (command, error) = FlagCommand.Parse(Body(json));
        Assert.True(command is not null, error);
        return command.Apply(start ?? FlagsSnapshot.Initial(EdgeSignerFlags.Defaults));
    }

    [Fact]
    public void The_seed_runbook_level_1_body_takes_one_tenant_off_the_edge()
    {
        var after = Apply("""{"action": "update", "flag": "edge_signer_enabled", "tenant_id": "acme", "value": false}""");

        Assert.False(after.OverridesFor("acme")!.EdgeSignerEnabled);
        Assert.Null(after.OverridesFor("globex"));
        Assert.False(after.Global.EdgeSignerEnabled); // the global flag is untouched
    }

    [Fact]
    public void The_seed_runbook_level_2_body_and_resume_toggle_the_emergency_shutdown()
    {
        var down = Apply("""{"action": "emergency_shutdown", "service": "edge_signer"}""");
        Assert.True(down.EmergencyShutdown);
        Assert.False(Apply("""{"action": "resume", "service": "edge_signer"}""", down).EmergencyShutdown);
    }

    [Fact]
    public void Level_3_removes_and_restores_the_route()
    {
        var removed = Apply("""{"action": "remove_route", "service": "edge_signer"}""");
        Assert.True(removed.RouteRemoved);
        Assert.False(Apply("""{"action": "restore_route", "service": "edge_signer"}""", removed).RouteRemoved);
    }

    [Fact]
    public void Global_updates_set_each_flag()
    {
        var s = Apply("""{"action":"update","flag":"edge_signer_enabled","value":true}""");
        s = Apply("""{"action":"update","flag":"tenant_allowlist","value":["acme","globex","acme"]}""", s);
        s = Apply("""{"action":"update","flag":"max_payload_size","value":65536}""", s);
        s = Apply("""{"action":"update","flag":"kms_timeout_ms","value":2500}""", s);
        s = Apply("""{"action":"update","flag":"circuit_breaker_enabled","value":false}""", s);
        s = Apply("""{"action":"update","flag":"smart_placement_enabled","value":true}""", s);

        var g = s.Global;
        Assert.Equal((true, 65536, 2500, false, true), (g.EdgeSignerEnabled, g.MaxPayloadSize, g.KmsTimeoutMs, g.CircuitBreakerEnabled, g.SmartPlacementEnabled));
        Assert.Equal(["acme", "globex"], g.TenantAllowlist);
    }

    [Fact]
    public void A_null_value_clears_a_tenant_override()
    {
        var set = Apply("""{"action":"update","flag":"max_payload_size","tenant_id":"acme","value":100}""");
        Assert.Equal(100, set.EffectiveFor("acme").MaxPayloadSize);
        Assert.Equal(32768, set.EffectiveFor("globex").MaxPayloadSize);

        var cleared = Apply("""{"action":"update","flag":"max_payload_size","tenant_id":"acme","value":null}""", set);
        Assert.Empty(cleared.Tenants);
    }

    [Theory]
    [InlineData("""{"action":"update","flag":"edge_enabled","value":true}""", "flag 'edge_enabled' is not a flag")]
    [InlineData("""{"action":"update","value":true}""", "is not a flag")]
    [InlineData("""{"action":"update","flag":"edge_signer_enabled","value":"yes"}""", "edge_signer_enabled must be true or false")]
    [InlineData("""{"action":"update","flag":"edge_signer_enabled"}""", "value is required")]
    [InlineData("""{"action":"update","flag":"max_payload_size","value":0}""", "max_payload_size must be an integer from 1")]
    [InlineData("""{"action":"update","flag":"max_payload_size","value":1.5}""", "max_payload_size must be an integer")]
    [InlineData("""{"action":"update","flag":"kms_timeout_ms","value":99999999999}""", "kms_timeout_ms must be an integer")]
    [InlineData("""{"action":"update","flag":"tenant_allowlist","value":["Not A Tenant"]}""", "tenant_allowlist must be an array")]
    [InlineData("""{"action":"update","flag":"tenant_allowlist","value":"acme"}""", "tenant_allowlist must be an array")]
    [InlineData("""{"action":"update","flag":"tenant_allowlist","tenant_id":"acme","value":[]}""", "global only")]
    [InlineData("""{"action":"update","flag":"edge_signer_enabled","tenant_id":"ACME","value":false}""", "tenant_id must match")]
    [InlineData("""{"action":"emergency_shutdown"}""", "service must be \"edge_signer\"")]
    [InlineData("""{"action":"emergency_shutdown","service":"kms_signer"}""", "service must be \"edge_signer\"")]
    [InlineData("""{"action":"resume","service":"edge_signer","flag":"x"}""", "takes only \"service\"")]
    [InlineData("""{"action":"delete_everything"}""", "action must be one of")]
    [InlineData("""{}""", "action must be one of")]
    public void Wrong_names_types_and_ranges_are_refused_with_a_message_that_names_them(string json, string expected)
    {
        var (command, error) = FlagCommand.Parse(Body(json));

        Assert.Null(command);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
