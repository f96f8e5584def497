using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class Batches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "batch_items",
                schema: "ingress",
                columns: table => new
                {
                    batch_id = table.Column<Guid>(type: "uuid", nullable: false),
                    item_index = table.Column<int>(type: "integer", nullable: false),
                    item_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kid = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    format = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    signing_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    tbs_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    signature = table.Column<byte[]>(type: "bytea", nullable: true),
                    error_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_batch_items", x => new { x.batch_id, x.item_index });
                });

            migrationBuilder.CreateTable(
                name: "batches",
                schema: "ingress",
                columns: table => new
                {
                    batch_id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    item_count = table.Column<int>(type: "integer", nullable: false),
                    ended = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    completion_published = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_batches", x => x.batch_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_batches_created_at",
                schema: "ingress",
                table: "batches",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "batch_items",
                schema: "ingress");

            migrationBuilder.DropTable(
                name: "batches",
                schema: "ingress");
        }
    }
}
