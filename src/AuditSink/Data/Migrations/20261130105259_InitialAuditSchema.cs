using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.AuditSink.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialAuditSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The audit schema is partitioned by time, which EF Core's migration operations cannot express:
            // the tables, partition helpers, hash-chain verification, roll-up and compliance functions are SQL
            // (Data/Sql/001_audit_schema.sql). The EF model maps the same tables and columns.
            migrationBuilder.Sql(EdgeSigner.ServiceDefaults.EmbeddedSql.Read(typeof(AuditDbContext).Assembly, "001_audit_schema.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP SCHEMA IF EXISTS audit CASCADE;");
        }
    }
}
