using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Registry.Migrations.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class SandboxIsolation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Isolation",
                table: "ValidationRuns",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true,
                collation: "C");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Isolation",
                table: "ValidationRuns");
        }
    }
}
