using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Registry.Data.PostgreSql;

/// <summary>
/// Makes every transaction on PostgreSQL take one transaction-scoped advisory lock before its first
/// statement, so that writers are serialised across all instances exactly as SQLite serialises them at
/// <c>BEGIN IMMEDIATE</c>. What the domain relies on then holds on both providers without a second
/// code path: the next version number, the audit chain's last hash, a lease claim, the one
/// production version. Reads outside a transaction never wait for it. The lock is released at commit
/// or rollback, so a killed instance never leaves it held.
/// </summary>
internal sealed class SerialisedWrites : DbTransactionInterceptor
{
    /// <summary>The advisory lock's key: any constant, the same in every instance ("Registry" in ASCII).</summary>
    public const long LockKey = 0x5265676973747279;

    /// <summary>
    /// A writer waits at most this long (lock_timeout, for the rest of the transaction); then it fails
    /// with SQLSTATE 55P03, which the write unit answers as "Registry busy" rather than a 500.
    /// </summary>
    private static readonly string Sql = $"SET LOCAL lock_timeout = '15s'; SELECT pg_advisory_xact_lock({LockKey})";

    public override async ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData,
        DbTransaction result, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = result;
        command.CommandText = Sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
        return result;
    }

    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        using var command = connection.CreateCommand();
        command.Transaction = result;
        command.CommandText = Sql;
        command.ExecuteNonQuery();
        return result;
    }
}
