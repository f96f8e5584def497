using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <summary>
    /// The global KMS budget per region (<c>signer.kms_budget</c>), leased from with the token-bucket function every
    /// shared bucket uses (<see cref="TokenBucketSql"/>, <c>signer.take_tokens</c>). Workers created both at start
    /// before this migration; <c>IF NOT EXISTS</c> keeps an existing table and its tokens. No model change: the table
    /// is read and written only by that function.
    /// </summary>
    [DbContext(typeof(SignerDbContext))]
    [Migration("20261203090000_KmsBudget")]
    public partial class KmsBudget : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE IF NOT EXISTS signer.kms_budget (
                    region text PRIMARY KEY,
                    tokens double precision NOT NULL,
                    updated_at timestamptz NOT NULL);
                COMMENT ON TABLE signer.kms_budget IS 'The global KMS request budget per region, leased by sign workers in small blocks.';
                DROP FUNCTION IF EXISTS signer.lease_kms_tokens(text, double precision, double precision, integer, double precision, integer);
                """);
            migrationBuilder.Sql(TokenBucketSql.CreateFunction("signer", "kms_budget", "region"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS signer.take_tokens(text, double precision, double precision, integer, double precision, integer);");
            migrationBuilder.Sql("DROP TABLE IF EXISTS signer.kms_budget;");
        }
    }
}
