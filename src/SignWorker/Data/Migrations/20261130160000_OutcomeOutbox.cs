using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <summary>
    /// The outbox of outcome events (Data/Sql/002_outcome_outbox.sql). Written with raw SQL by SignResultStore and
    /// OutcomeOutbox, so it is not part of the EF model and the model snapshot does not change.
    /// </summary>
    [DbContext(typeof(SignerDbContext))]
    [Migration("20261130160000_OutcomeOutbox")]
    public partial class OutcomeOutbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(EdgeSigner.ServiceDefaults.EmbeddedSql.Read(typeof(SignerDbContext).Assembly, "002_outcome_outbox.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE IF EXISTS signer.outcome_outbox;");
        }
    }
}
