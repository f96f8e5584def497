using EdgeSigner.Contracts.Flags;
using EdgeSigner.SignWorker.Routing;

namespace EdgeSigner.SignWorker.Tests;

public sealed class SigningPathPolicyTests
{
    public static TheoryData<bool, bool, bool?, bool, bool> AllCombinations()
    {
        var data = new TheoryData<bool, bool, bool?, bool, bool>();
        foreach (var master in new[] { false, true })
        foreach (var allowlisted in new[] { false, true })
        foreach (var tenantOverride in new bool?[] { null, false, true })
        foreach (var shutdown in new[] { false, true })
        foreach (var usable in new[] { false, true })
        {
            data.Add(master, allowlisted, tenantOverride, shutdown, usable);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllCombinations))]
    public void Edge_only_when_every_condition_allows_it(bool master, bool allowlisted, bool? tenantOverride, bool shutdown, bool usable)
    {
        var flags = new EdgeSignerFlags { EdgeSignerEnabled = master, TenantAllowlist = allowlisted ? ["acme", "globex"] : ["globex"] };

        var path = SigningPathPolicy.Choose(flags, "acme", tenantOverride, shutdown, usable);

        var expected = master && allowlisted && tenantOverride != false && !shutdown && usable ? SigningPath.Edge : SigningPath.Central;
        Assert.Equal(expected, path);
    }

    [Fact]
    public void The_seed_defaults_route_everyone_to_central() =>
        Assert.Equal(SigningPath.Central, SigningPathPolicy.Choose(EdgeSignerFlags.Defaults, "acme", null, false, true));
}
