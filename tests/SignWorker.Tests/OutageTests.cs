using System.Net.Sockets;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.Testing;
using Npgsql;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>What a consumer waits out (the database unreachable) and what it sends to the error queue (anything else).</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task No_host_of_the_wanted_kind_is_an_outage()
    {
        // What Npgsql says while the primary is dead and the standby not yet promoted: the only host that answers is
        // not of the kind the connection string wants, and none failed to connect. A primary (named twice) asked for
        // as a standby gives the same answer.
        var database = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            var standbyWanted = new NpgsqlConnectionStringBuilder(database)
            {
                Host = $"127.0.0.1:{new NpgsqlConnectionStringBuilder(database).Port},localhost:{new NpgsqlConnectionStringBuilder(database).Port}",
                TargetSessionAttributes = "standby",
            }.ConnectionString;
            await using var dataSource = NpgsqlDataSource.Create(standbyWanted);
            var failure = await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync());
            Assert.Contains("suitable host", failure.Message, StringComparison.Ordinal);
            Assert.True(Outage.OfDatabase(failure), failure.ToString());
            Assert.True(Outage.OfDatabase(new InvalidOperationException("wrapped", failure)));
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(database);
        }
    }

    [Theory]
    [InlineData("57P01")] // terminating connection due to administrator command or postmaster exit
    [InlineData("25006")] // read-only transaction: a standby
    [InlineData("08006")] // connection failure
    [InlineData("53300")] // too many connections
    public void The_server_going_away_is_an_outage(string sqlState) =>
        Assert.True(Outage.OfDatabase(new PostgresException("gone", "FATAL", "FATAL", sqlState)));

    [Theory]
    [InlineData("23505")] // unique violation
    [InlineData("22001")] // value too long: a poison message
    [InlineData("42P01")] // no such table
    public void Wrong_data_is_not(string sqlState) =>
        Assert.False(Outage.OfDatabase(new PostgresException("wrong", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void Neither_is_a_bug() => Assert.False(Outage.OfDatabase(new FormatException("bad")));

    [Fact]
    public void A_refused_socket_is() => Assert.True(Outage.OfDatabase(new SocketException((int)SocketError.ConnectionRefused)));
}
