using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <summary>
    /// The partition functions every partitioned table uses (<see cref="PartitionSql"/>) replace the worker's own
    /// copies of them, with <c>signer.partition_period</c> saying that results are partitioned by day. Same names,
    /// same behaviour for <c>sign_results</c>. No model change.
    /// </summary>
    [DbContext(typeof(SignerDbContext))]
    [Migration("20261203091000_SharedPartitionFunctions")]
    public partial class SharedPartitionFunctions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION signer.partition_period(p_table text) RETURNS interval
                LANGUAGE sql IMMUTABLE AS $$
                    SELECT CASE p_table WHEN 'sign_results' THEN interval '1 day' END
                $$;
                """);
            migrationBuilder.Sql(PartitionSql.CreateFunctions("signer"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            throw new NotSupportedException("The worker's own partition functions are gone; there is no way back.");
        }
    }
}
