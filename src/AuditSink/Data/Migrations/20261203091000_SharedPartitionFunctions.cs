using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.AuditSink.Data.Migrations
{
    /// <summary>
    /// The partition functions every partitioned table uses (<see cref="PartitionSql"/>) replace the audit store's
    /// own copies of them; <c>audit.partition_period</c> stays the audit store's table of periods.
    /// The shared <c>ensure_partitions</c> takes the tables it covers and reaches at least one period ahead (the
    /// retention job used to ask for next month's partitions separately); the documented
    /// <c>audit.ensure_partitions(from, to)</c> stays, for every audit table. No model change.
    /// </summary>
    [DbContext(typeof(AuditDbContext))]
    [Migration("20261203091000_SharedPartitionFunctions")]
    public partial class SharedPartitionFunctions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(PartitionSql.CreateFunctions("audit"));
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION audit.ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS SETOF text
                LANGUAGE sql AS $$
                    SELECT audit.ensure_partitions(ARRAY['sign_events', 'error_details', 'metrics_minute', 'audit_trail'], p_from, p_to)
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            throw new NotSupportedException("The audit store's own partition functions are gone; there is no way back.");
        }
    }
}
