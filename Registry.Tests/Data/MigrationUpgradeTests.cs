using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Registry.Data;

namespace Registry.Tests.Data;

/// <summary>A registry made by an older release keeps working after the migrations of a newer one.</summary>
public sealed class MigrationUpgradeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("registry-upgrade-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Models_registered_before_the_latest_version_pointer_point_at_their_latest_version_after_the_upgrade()
    {
        var options = new DbContextOptionsBuilder<SqliteRegistryDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_folder, "registry.db")}", o => o.MigrationsAssembly(SqliteRegistryDbContext.MigrationsAssembly))
            .Options;
        await using var db = new SqliteRegistryDbContext(options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261201211359_ProtectionKeys"); // the last migration before the pointer
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO Artifacts (Sha256, SizeBytes, StorageKey, CreatedAt) VALUES ('aa', 1, 'aa/aa', 0);
            INSERT INTO Models (Id, Name, NormalizedName, LatestVersion, CreatedAt, CreatedBy, UpdatedAt) VALUES (7, 'Old', 'old', 2, 0, 'x', 0);
            INSERT INTO Models (Id, Name, NormalizedName, LatestVersion, CreatedAt, CreatedBy, UpdatedAt) VALUES (8, 'Empty', 'empty', 0, 0, 'x', 0);
            INSERT INTO Versions (Id, ModelId, Number, ArtifactSha256, Stage, ValidationStatus, Signature, Params, CreatedAt, CreatedBy)
                VALUES (40, 7, 1, 'aa', 'None', 'Passed', '{{}}', '{{}}', 0, 'x'), (41, 7, 2, 'aa', 'None', 'Passed', '{{}}', '{{}}', 0, 'x');
            """);

        await migrator.MigrateAsync();

        var pointers = await db.Models.OrderBy(m => m.Id).Select(m => new { m.Name, m.LatestVersionId }).ToListAsync();
        Assert.Equal([("Old", (long?)41), ("Empty", null)], pointers.Select(p => (p.Name, p.LatestVersionId)));
    }
}
