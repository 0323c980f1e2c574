using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Registry.Data;

namespace Registry.Migrations.Sqlite;

/// <summary>
/// Lets <c>dotnet ef migrations add &lt;Name&gt; --project migrations/Registry.Migrations.Sqlite</c>
/// build the SQLite context without starting the web app.
/// </summary>
internal sealed class DesignTimeFactory : IDesignTimeDbContextFactory<SqliteRegistryDbContext>
{
    public SqliteRegistryDbContext CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<SqliteRegistryDbContext>()
            .UseSqlite("Data Source=design-time.db", o => o.MigrationsAssembly(SqliteRegistryDbContext.MigrationsAssembly))
            .Options);
}
