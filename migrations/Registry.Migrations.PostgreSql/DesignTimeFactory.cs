using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Registry.Data.PostgreSql;

namespace Registry.Migrations.PostgreSql;

/// <summary>
/// Lets <c>dotnet ef migrations add &lt;Name&gt; --project migrations/Registry.Migrations.PostgreSql</c>
/// build the PostgreSQL context without a server or the web app.
/// </summary>
internal sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlRegistryDbContext>
{
    public PostgreSqlRegistryDbContext CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<PostgreSqlRegistryDbContext>()
            .UseNpgsql("Host=localhost;Database=registry-design-time", o => o.MigrationsAssembly(PostgreSqlRegistryDbContext.MigrationsAssembly))
            .Options);
}
