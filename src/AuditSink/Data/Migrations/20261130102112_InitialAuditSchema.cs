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
            migrationBuilder.EnsureSchema(
                name: "audit");

            migrationBuilder.CreateTable(
                name: "sign_events",
                schema: "audit",
                columns: table => new
                {
                    event_id = table.Column<Guid>(type: "uuid", nullable: false),
                    event_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    timestamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    signing_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    kid = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    format = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    payload_size = table.Column<int>(type: "integer", nullable: false),
                    t_wasm_ms = table.Column<double>(type: "double precision", nullable: false),
                    t_kms_ms = table.Column<double>(type: "double precision", nullable: false),
                    t_total_ms = table.Column<double>(type: "double precision", nullable: false),
                    cpu_ms_used = table.Column<double>(type: "double precision", nullable: false),
                    memory_mb_used = table.Column<double>(type: "double precision", nullable: false),
                    tbs_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    kms_key_id = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    kms_region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    success = table.Column<bool>(type: "boolean", nullable: false),
                    error_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    error_message = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    retry_count = table.Column<int>(type: "integer", nullable: false),
                    fallback_triggered = table.Column<bool>(type: "boolean", nullable: false),
                    batch_id = table.Column<Guid>(type: "uuid", nullable: true),
                    item_id = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    recorded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sign_events", x => x.event_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_sign_events_request_id",
                schema: "audit",
                table: "sign_events",
                column: "request_id");

            migrationBuilder.CreateIndex(
                name: "ix_sign_events_tenant_id_timestamp",
                schema: "audit",
                table: "sign_events",
                columns: new[] { "tenant_id", "timestamp" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sign_events",
                schema: "audit");
        }
    }
}
