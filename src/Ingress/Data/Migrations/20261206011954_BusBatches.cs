using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EdgeSigner.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class BusBatches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "delivered",
                schema: "ingress",
                table: "batches",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "results_queue",
                schema: "ingress",
                table: "batches",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "delivered_by",
                schema: "ingress",
                table: "batch_items",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "delivered",
                schema: "ingress",
                table: "batches");

            migrationBuilder.DropColumn(
                name: "results_queue",
                schema: "ingress",
                table: "batches");

            migrationBuilder.DropColumn(
                name: "delivered_by",
                schema: "ingress",
                table: "batch_items");
        }
    }
}
