using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Registry.Migrations.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class SearchLatestVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Value",
                table: "Metrics");

            migrationBuilder.AddColumn<long>(
                name: "LatestVersionId",
                table: "Models",
                type: "bigint",
                nullable: true);

            // Models registered before this column point at their latest version now.
            migrationBuilder.Sql("""UPDATE "Models" SET "LatestVersionId" = (SELECT v."Id" FROM "Versions" AS v WHERE v."ModelId" = "Models"."Id" AND v."Number" = "Models"."LatestVersion")""");

            migrationBuilder.CreateIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Id_Value",
                table: "Metrics",
                columns: new[] { "VersionId", "Key", "Dataset", "LoggedAt", "Id", "Value" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Id_Value",
                table: "Metrics");

            migrationBuilder.DropColumn(
                name: "LatestVersionId",
                table: "Models");

            migrationBuilder.CreateIndex(
                name: "IX_Metrics_VersionId_Key_Dataset_LoggedAt_Value",
                table: "Metrics",
                columns: new[] { "VersionId", "Key", "Dataset", "LoggedAt", "Value" });
        }
    }
}
