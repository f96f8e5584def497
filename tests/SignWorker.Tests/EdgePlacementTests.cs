using EdgeSigner.SignWorker.Routing;

namespace EdgeSigner.SignWorker.Tests;

public sealed class EdgePlacementTests
{
    private static readonly string[] Replicas = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"];

    [Theory]
    [InlineData("eu-central-1", "eu-central-1")] // a replica in the caller's own region
    [InlineData("EU-CENTRAL-1", "eu-central-1")]
    [InlineData("eu-west-3", "eu-west-1")] // same geography, longest shared prefix
    [InlineData("eu-central-2", "eu-central-1")]
    [InlineData("eu-north-1", "eu-west-1")] // same geography, no better prefix: the default edge wins the tie
    [InlineData("us-east-2", "us-east-1")]
    [InlineData("us-west-1", "us-west-2")]
    [InlineData("ap-southeast-1", "ap-southeast-2")]
    [InlineData("sa-east-1", "eu-west-1")] // no replica in that geography: the default edge
    [InlineData("mars-1", "eu-west-1")]
    [InlineData("", "eu-west-1")]
    [InlineData(null, "eu-west-1")]
    public void Chooses_the_nearest_configured_replica_else_the_default(string? clientRegion, string expected) =>
        Assert.Equal(expected, EdgePlacement.Choose(clientRegion, Replicas, "eu-west-1"));
}
