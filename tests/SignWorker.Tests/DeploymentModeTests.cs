using EdgeSigner.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace EdgeSigner.SignWorker.Tests;

public sealed class DeploymentModeTests
{
    private static string? Resolve(string? audit) => DeploymentMode.PostgresConnectionString(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Audit"] = audit }).Build());

    [Fact]
    public void A_connection_string_without_a_pool_size_gets_the_bounded_default()
    {
        var resolved = new NpgsqlConnectionStringBuilder(Resolve("Host=db;Database=edgesigner;Username=u;Password=p"));
        Assert.Equal(DeploymentMode.DefaultMaxPoolSize, resolved.MaxPoolSize);
        Assert.Equal(("db", "edgesigner", "u", "p"), (resolved.Host, resolved.Database, resolved.Username, resolved.Password));
    }

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=40")]
    [InlineData("Host=db;maxpoolsize=40")]
    public void A_pool_size_set_in_the_connection_string_is_kept(string audit) =>
        Assert.Equal(40, new NpgsqlConnectionStringBuilder(Resolve(audit)).MaxPoolSize);

    [Fact]
    public void No_connection_string_is_embedded_mode() => Assert.Null(Resolve(null));
}
