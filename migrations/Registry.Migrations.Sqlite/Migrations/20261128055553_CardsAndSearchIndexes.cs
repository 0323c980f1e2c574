using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Registry.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class CardsAndSearchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Metrics_VersionId_Key_Dataset",
                table: "Metrics");

            migrationBuilder.AddColumn<string>(
                name: "Card",
                table: "Versions",
                type: "TEXT",
                maxLength: 100000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Card",
                table: "Models",
                type: "TEXT",
                maxLength: 100000,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Versions_ModelId_Stage",
                table: "Versions",
                columns: new[] { "ModelId", "Stage" });

            migrationBuilder.CreateIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Value",
                table: "Metrics",
                columns: new[] { "VersionId", "Key", "Dataset", "LoggedAt", "Value" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Versions_ModelId_Stage",
                table: "Versions");

            migrationBuilder.DropIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Value",
                table: "Metrics");

            migrationBuilder.DropColumn(
                name: "Card",
                table: "Versions");

            migrationBuilder.DropColumn(
                name: "Card",
                table: "Models");

            migrationBuilder.CreateIndex(
                name: "IX_Metrics_VersionId_Key_Dataset",
                table: "Metrics",
                columns: new[] { "VersionId", "Key", "Dataset" });
        }
    }
}
