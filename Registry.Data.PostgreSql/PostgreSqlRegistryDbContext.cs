using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Registry.Core.Persistence;

namespace Registry.Data.PostgreSql;

/// <summary>The catalogue on PostgreSQL: several instances share it.</summary>
public sealed class PostgreSqlRegistryDbContext(DbContextOptions<PostgreSqlRegistryDbContext> options) : RegistryDbContext(options)
{
    public const string MigrationsAssembly = "Registry.Migrations.PostgreSql";

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Byte order, as on SQLite: names sort the same on both providers, whatever the server's locale.
        configurationBuilder.Properties<string>().UseCollation("C");
        // timestamptz takes UTC only; a time a client sent with an offset is the same instant in UTC.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcConverter>();
    }

    private sealed class UtcConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(v => v.ToUniversalTime(), v => v);
}
