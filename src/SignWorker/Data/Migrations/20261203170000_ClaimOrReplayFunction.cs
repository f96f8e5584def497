using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <summary>
    /// <c>signer.claim_or_replay</c>: the worker's claim in one statement (one round trip, one transaction) instead of
    /// a lookup and a transaction of four statements. Under the request id's advisory lock it decides and returns the
    /// request's row: <c>replay</c> (completed), <c>claimed</c> (inserted for the caller, or taken over from an expired
    /// claim) or <c>held</c> (a live claim). No model change.
    /// </summary>
    [DbContext(typeof(SignerDbContext))]
    [Migration("20261203170000_ClaimOrReplayFunction")]
    public partial class ClaimOrReplayFunction : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION signer.claim_or_replay(
                    p_request_id uuid, p_tenant_id text, p_kid text, p_format text, p_tbs_hash text, p_batch_id uuid,
                    p_item_id text, p_item_index integer, p_worker text, p_now timestamptz, p_until timestamptz)
                RETURNS TABLE (decision text, result signer.sign_results) LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtextextended(p_request_id::text, 7));
                    SELECT * INTO result FROM signer.sign_results WHERE request_id = p_request_id LIMIT 1;
                    IF NOT FOUND THEN
                        PERFORM signer.ensure_partition('sign_results', p_now);
                        INSERT INTO signer.sign_results (request_id, created_at, tenant_id, kid, format, tbs_hash, batch_id, item_id,
                            item_index, claimed_by, claimed_until)
                        VALUES (p_request_id, p_now, p_tenant_id, p_kid, p_format, p_tbs_hash, p_batch_id, p_item_id, p_item_index,
                            p_worker, p_until)
                        RETURNING * INTO result;
                        decision := 'claimed';
                    ELSIF result.completed_at IS NOT NULL THEN
                        decision := 'replay';
                    ELSIF result.claimed_until < p_now THEN
                        UPDATE signer.sign_results r SET claimed_by = p_worker, claimed_until = p_until
                        WHERE r.request_id = p_request_id AND r.created_at = result.created_at
                        RETURNING r.* INTO result;
                        decision := 'claimed'; -- the claimer died: taken over
                    ELSE
                        decision := 'held';
                    END IF;
                    RETURN NEXT;
                END $$;
                COMMENT ON FUNCTION signer.claim_or_replay(uuid, text, text, text, text, uuid, text, integer, text, timestamptz, timestamptz)
                    IS 'A worker''s claim of one request id, or the recorded result to replay, in one statement.';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                "DROP FUNCTION IF EXISTS signer.claim_or_replay(uuid, text, text, text, text, uuid, text, integer, text, timestamptz, timestamptz);");
        }
    }
}
