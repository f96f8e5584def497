using EdgeSigner.Contracts.Flags;

namespace EdgeSigner.Contracts.Tests;

public sealed class FlagsSnapshotTests
{
    [Fact]
    public void The_seed_defaults_are_the_initial_flags()
    {
        var flags = FlagsSnapshot.Initial(EdgeSignerFlags.Defaults).Global;

        Assert.False(flags.EdgeSignerEnabled);
        Assert.Empty(flags.TenantAllowlist);
        Assert.Equal(32768, flags.MaxPayloadSize);
        Assert.Equal(30000, flags.KmsTimeoutMs);
        Assert.True(flags.CircuitBreakerEnabled);
        Assert.False(flags.SmartPlacementEnabled);
    }

    [Fact]
    public void A_tenants_overrides_apply_to_that_tenant_only()
    {
        var snapshot = FlagsSnapshot.Initial(EdgeSignerFlags.Defaults) with
        {
            Tenants = new Dictionary<string, TenantFlagOverrides> { ["acme"] = new() { MaxPayloadSize = 10, KmsTimeoutMs = 500, SmartPlacementEnabled = true } },
        };

        var acme = snapshot.EffectiveFor("acme");
        Assert.Equal((10, 500, true), (acme.MaxPayloadSize, acme.KmsTimeoutMs, acme.SmartPlacementEnabled));
        Assert.Equal(snapshot.Global, snapshot.EffectiveFor("globex"));
    }
}
