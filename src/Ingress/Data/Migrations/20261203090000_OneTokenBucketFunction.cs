using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.Ingress.Data.Migrations
{
    /// <summary>
    /// Tenant buckets are taken from by the token-bucket function every shared bucket uses
    /// (<see cref="TokenBucketSql"/>, <c>ingress.take_tokens</c>) instead of a function of their own. No model change.
    /// </summary>
    [DbContext(typeof(IngressDbContext))]
    [Migration("20261203090000_OneTokenBucketFunction")]
    public partial class OneTokenBucketFunction : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS ingress.take_token(text, double precision, double precision);");
            migrationBuilder.Sql(TokenBucketSql.CreateFunction("ingress", "rate_buckets", "tenant_id"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            throw new NotSupportedException("ingress.take_token is gone; restore it from the RateBuckets migration if you must go back.");
        }
    }
}
