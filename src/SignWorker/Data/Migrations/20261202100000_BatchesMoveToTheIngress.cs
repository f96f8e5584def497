using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <summary>signer.batches goes (Data/Sql/003_batches_move_to_the_ingress.sql): the ingress owns batches.</summary>
    [DbContext(typeof(SignerDbContext))]
    [Migration("20261202100000_BatchesMoveToTheIngress")]
    public partial class BatchesMoveToTheIngress : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(EdgeSigner.ServiceDefaults.EmbeddedSql.Read(typeof(SignerDbContext).Assembly, "003_batches_move_to_the_ingress.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            throw new NotSupportedException("The batches moved to the ingress; there is no way back.");
        }
    }
}
