using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.AuditSink.Data.Migrations
{
    /// <summary>
    /// The roll-up creates the partitions of the months it writes into, and the compliance report takes the time it
    /// is computed as of (Data/Sql/002_partitions_for_any_time.sql). Functions only: the EF model does not change.
    /// </summary>
    [DbContext(typeof(AuditDbContext))]
    [Migration("20261202090000_PartitionsForAnyTime")]
    public partial class PartitionsForAnyTime : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(EdgeSigner.ServiceDefaults.EmbeddedSql.Read(typeof(AuditDbContext).Assembly, "002_partitions_for_any_time.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The functions of 001 are a strict subset in behaviour; going down keeps the new ones.
        }
    }
}
