using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.SignWorker.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialSignerSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Partitioned tables, which EF Core's migration operations cannot express: Data/Sql/001_signer_schema.sql.
            migrationBuilder.Sql(EdgeSigner.ServiceDefaults.EmbeddedSql.Read(typeof(SignerDbContext).Assembly, "001_signer_schema.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE IF EXISTS signer.sign_results, signer.batches; DROP FUNCTION IF EXISTS signer.ensure_partition(text, timestamptz), signer.partitions(text);");
        }
    }
}
