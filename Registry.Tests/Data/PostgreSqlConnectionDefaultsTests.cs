using Npgsql;
using Registry.Data.PostgreSql;

namespace Registry.Tests.Data;

/// <summary>The registry's defaults for the PostgreSQL connection string fill in only what the operator left unset.</summary>
public sealed class PostgreSqlConnectionDefaultsTests
{
    [Fact]
    public void Statements_are_prepared_automatically_unless_the_connection_string_says_otherwise()
    {
        Assert.Equal(32, new NpgsqlConnectionStringBuilder(RegistryPostgreSqlServices.WithDefaults("Host=db;Database=registry")).MaxAutoPrepare);
        // Behind PgBouncer in transaction mode an operator turns it off, under any spelling of the key.
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(RegistryPostgreSqlServices.WithDefaults("Host=db;Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(RegistryPostgreSqlServices.WithDefaults("Host=db;maxautoprepare=0")).MaxAutoPrepare);
    }
}
