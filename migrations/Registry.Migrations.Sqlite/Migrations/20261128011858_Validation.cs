using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Registry.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Validation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SmokeTestShapes",
                table: "Versions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "IsSystem",
                table: "Metrics",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "ValidationRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    VersionId = table.Column<long>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LeaseToken = table.Column<Guid>(type: "TEXT", nullable: true),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    LeaseExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    QueuedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Summary = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    Checks = table.Column<string>(type: "TEXT", nullable: false),
                    Figures = table.Column<string>(type: "TEXT", nullable: true),
                    Runtime = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ValidationRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ValidationRuns_Versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "Versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VersionReferences",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    VersionId = table.Column<long>(type: "INTEGER", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    ArtifactSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VersionReferences", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VersionReferences_Artifacts_ArtifactSha256",
                        column: x => x.ArtifactSha256,
                        principalTable: "Artifacts",
                        principalColumn: "Sha256",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_VersionReferences_Versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "Versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ValidationRuns_Status_Id",
                table: "ValidationRuns",
                columns: new[] { "Status", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ValidationRuns_VersionId_Id",
                table: "ValidationRuns",
                columns: new[] { "VersionId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_VersionReferences_ArtifactSha256",
                table: "VersionReferences",
                column: "ArtifactSha256");

            migrationBuilder.CreateIndex(
                name: "IX_VersionReferences_VersionId_Kind_Position",
                table: "VersionReferences",
                columns: new[] { "VersionId", "Kind", "Position" },
                unique: true);

            // Versions registered before validation existed are queued now, so that none stays Pending forever.
            migrationBuilder.Sql(
                "INSERT INTO ValidationRuns (VersionId, Status, Attempts, QueuedAt, RequestedBy, Checks) " +
                "SELECT Id, 'Pending', 0, CreatedAt, 'migration', '[]' FROM Versions;");
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ValidationRuns");

            migrationBuilder.DropTable(
                name: "VersionReferences");

            migrationBuilder.DropColumn(
                name: "SmokeTestShapes",
                table: "Versions");

            migrationBuilder.DropColumn(
                name: "IsSystem",
                table: "Metrics");
        }
    }
}
