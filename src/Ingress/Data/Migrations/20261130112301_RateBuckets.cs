using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class RateBuckets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "rate_buckets",
                schema: "ingress",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    tokens = table.Column<double>(type: "double precision", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_rate_buckets", x => x.tenant_id);
                });

            // One statement takes a token: refill by the time passed (on the database's clock, so ingress instances'
            // clocks never matter; a clock that went back refills nothing), take one whole token if there is one.
            migrationBuilder.Sql("""
                CREATE FUNCTION ingress.take_token(p_tenant text, p_rate double precision, p_burst double precision)
                RETURNS TABLE (granted boolean, tokens double precision)
                LANGUAGE plpgsql AS $$
                DECLARE
                    v_now timestamptz := clock_timestamp();
                    v_tokens double precision;
                    v_updated timestamptz;
                BEGIN
                    INSERT INTO ingress.rate_buckets (tenant_id, tokens, updated_at) VALUES (p_tenant, p_burst, v_now)
                    ON CONFLICT (tenant_id) DO NOTHING;
                    SELECT b.tokens, b.updated_at INTO v_tokens, v_updated FROM ingress.rate_buckets b WHERE b.tenant_id = p_tenant FOR UPDATE;
                    v_tokens := least(p_burst, v_tokens + greatest(0, extract(epoch FROM v_now - v_updated)) * p_rate);
                    IF v_tokens >= 1 THEN
                        granted := true;
                        v_tokens := v_tokens - 1;
                    ELSE
                        granted := false;
                    END IF;
                    UPDATE ingress.rate_buckets SET tokens = v_tokens, updated_at = greatest(v_updated, v_now) WHERE tenant_id = p_tenant;
                    tokens := v_tokens;
                    RETURN NEXT;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS ingress.take_token(text, double precision, double precision);");
            migrationBuilder.DropTable(
                name: "rate_buckets",
                schema: "ingress");
        }
    }
}
