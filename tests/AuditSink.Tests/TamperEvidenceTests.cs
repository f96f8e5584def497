using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>One edited, deleted or inserted audit-trail row is caught by the verifier and by audit.verify_trail, which name it.</summary>
public sealed class TamperEvidenceTests : IAsyncLifetime
{
    private AuditDb _db = null!;
    private long _firstSeq;

    public async Task InitializeAsync()
    {
        _db = await AuditDb.StartAsync();
        await _db.AppendTrailAsync(
        [
            AuditDb.Entry("flags.update", "edge_signer_enabled", before: """{"edge_signer_enabled":false}""", after: """{"edge_signer_enabled":true}"""),
            AuditDb.Entry("tenants.create", "acme", after: """{"tenant_id":"acme"}"""),
            AuditDb.Entry("tenants.disable", "globex", before: """{"disabled":false}""", after: """{"disabled":true}"""),
            AuditDb.Entry("POST /admin/flags", outcome: "denied", actor: "anonymous", source: "203.0.113.9"),
            AuditDb.Entry("flags.emergency_shutdown", "edge_signer", after: "\u00e9t\u00e9 \u2603 \U0001F511"),
        ]);
        _firstSeq = (long)(await _db.QueryAsync("SELECT min(seq) FROM audit.audit_trail WHERE action = 'flags.update'"))[0][0]!;
    }

    [Fact]
    public async Task An_untouched_trail_verifies_in_csharp_and_in_sql()
    {
        var (csharp, sql) = await VerifyBothAsync();

        Assert.True(csharp.Verified, csharp.Problem);
        Assert.True(csharp.RowsChecked >= 5);
        Assert.Equal((true, csharp.RowsChecked), ((bool)sql[0]!, (long)sql[1]!));
    }

    [Theory]
    [InlineData("after", "'{\"disabled\":false}'")]
    [InlineData("actor", "'someone-else'")]
    [InlineData("occurred_at", "occurred_at - interval '1 second'")]
    [InlineData("target", "NULL")]
    public async Task An_edited_row_is_named(string column, string newValue)
    {
        var edited = _firstSeq + 2;
        await _db.ExecuteAsync($"UPDATE audit.audit_trail SET {column} = {newValue} WHERE seq = {edited}");

        var (csharp, sql) = await VerifyBothAsync();

        Assert.False(csharp.Verified);
        Assert.Equal(edited, csharp.FirstBadSeq);
        Assert.Equal("row_hash does not match the row's content", csharp.Problem);
        Assert.Equal((false, edited, csharp.Problem), ((bool)sql[0]!, (long)sql[2]!, (string)sql[4]!));
    }

    [Fact]
    public async Task A_deleted_row_is_named()
    {
        await _db.ExecuteAsync($"DELETE FROM audit.audit_trail WHERE seq = {_firstSeq + 1}");

        var (csharp, sql) = await VerifyBothAsync();

        Assert.False(csharp.Verified);
        Assert.Equal(_firstSeq + 2, csharp.FirstBadSeq);
        Assert.Equal($"rows {_firstSeq + 1} to {_firstSeq + 1} are missing", csharp.Problem);
        Assert.Equal((false, _firstSeq + 2, csharp.Problem), ((bool)sql[0]!, (long)sql[2]!, (string)sql[4]!));
    }

    [Fact]
    public async Task An_inserted_row_is_named()
    {
        // A forger copies a row, gives it the next seq and a plausible hash link, but cannot produce the next row's link.
        await _db.ExecuteAsync($"""
            INSERT INTO audit.audit_trail (event_id, recorded_at, seq, occurred_at, category, actor, source_address, action, target,
                                           outcome, status_code, before, after, prev_hash, row_hash)
            SELECT gen_random_uuid(), recorded_at, seq, occurred_at, category, 'admin', source_address, 'tenants.enable', 'globex',
                   outcome, status_code, before, after, prev_hash, row_hash
            FROM audit.audit_trail WHERE seq = {_firstSeq + 3}
            """);

        var (csharp, sql) = await VerifyBothAsync();

        Assert.False(csharp.Verified);
        Assert.Equal(_firstSeq + 3, csharp.FirstBadSeq);
        Assert.Equal((false, _firstSeq + 3), ((bool)sql[0]!, (long)sql[2]!));
    }

    [Fact]
    public async Task The_csharp_and_sql_row_hashes_agree_byte_for_byte()
    {
        var rows = await _db.QueryAsync("""
            SELECT row_hash = audit.trail_row_hash(prev_hash, seq, event_id, occurred_at, category, actor, source_address, action,
                                                   target, outcome, status_code, before, after)
            FROM audit.audit_trail
            """);

        Assert.All(rows, r => Assert.Equal(true, r[0]));
    }

    private async Task<(TrailVerification CSharp, object?[] Sql)> VerifyBothAsync()
    {
        var csharp = await _db.InScopeAsync(sp => sp.GetRequiredService<AuditTrailVerifier>()
            .VerifyAsync(DateTimeOffset.MinValue, DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None));
        var sql = (await _db.QueryAsync("SELECT verified, rows_checked, first_bad_seq, first_bad_event_id, problem FROM audit.verify_trail('0001-01-01', now() + interval '1 day')"))[0];
        return (csharp, sql);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();
}
