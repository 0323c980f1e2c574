using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Registry.Core;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Persistence;
using Registry.Core.Storage;
using Registry.Data;
using Registry.Web;

namespace Registry.Bench;

/// <summary>
/// Fills an empty registry with a large synthetic catalogue, on whichever database and store the
/// server's settings choose:
/// <c>generate-catalogue --models 1000 --versions 100000 --metrics 1000000 [--big 1000] --Registry:…=…</c>.
/// Model 0 (<c>model-0000</c>) gets <c>--big</c> versions, the rest share the remainder; every
/// version has the same small ONNX artifact (stored once through the artifact store, as uploads are)
/// and its share of metrics (auc and loss on two datasets, then others); one version in ten of each
/// model is in staging and the newest but one in production, with history rows, as promotions would
/// leave them. The rows are made in memory first, then written table by table, because PostgreSQL's
/// COPY takes one table at a time: prepared statements in one transaction on SQLite, binary COPY on
/// PostgreSQL. A million metrics take seconds on either.
/// </summary>
internal static class CatalogueGenerator
{
    public const string Command = "generate-catalogue";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, int>(StringComparer.Ordinal) { ["models"] = 1000, ["versions"] = 100_000, ["metrics"] = 1_000_000, ["big"] = 1000 };
        var configuration = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && options.ContainsKey(args[i][2..]) && i + 1 < args.Length &&
                int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n >= 0)
                options[args[i++][2..]] = n;
            else configuration.Add(args[i]);
        }
        var (models, versions, metrics, big) = (options["models"], options["versions"], options["metrics"], options["big"]);
        if (models < 1 || versions < models || big > versions - (models - 1) || (models == 1 && big != versions))
        {
            await Console.Error.WriteLineAsync("bench: need 1 ≤ models ≤ versions, and --big leaving at least one version for every other model.");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. configuration], DisableDefaults = true });
        builder.Configuration.AddCommandLine([.. configuration]);
        builder.Services.AddLogging(logging => logging.ClearProviders());
        builder.Services.AddRegistryCore().AddRegistryProviders(builder.Configuration);
        using var host = builder.Build();
        await host.Services.InitializeRegistryDataAsync();

        var clock = Stopwatch.StartNew();
        var factory = host.Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        if (await db.Models.AnyAsync())
        {
            await Console.Error.WriteLineAsync("bench: the catalogue is not empty; generate into a fresh data folder or database.");
            return 1;
        }

        // One real artifact, stored as an upload would store it.
        var bytes = IdentityModel();
        var store = host.Services.GetRequiredService<IArtifactStore>();
        var staged = (await store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None)).Value;
        await using (staged)
        {
            var storageKey = await store.CommitAsync(staged, CancellationToken.None);
            var signature = JsonSerializer.Serialize(OnnxHeaderReader.Read(new MemoryStream(bytes)).Value, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            var start = DateTimeOffset.UtcNow.AddDays(-400);
            var rows = Generate(models, versions, metrics, big, start);
            var artifact = new ArtifactRow(staged.Sha256, staged.SizeBytes, storageKey, start);

            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            switch (connection)
            {
                case SqliteConnection sqlite: await WriteSqliteAsync(sqlite, artifact, signature, rows); break;
                case NpgsqlConnection npgsql: await WritePostgreSqlAsync(npgsql, artifact, signature, rows); break;
                default: throw new NotSupportedException($"bench: no fast writer for {connection.GetType().Name}.");
            }
            Console.WriteLine($"generated {models} models, {rows.Versions.Count} versions, {rows.Metrics.Count} metrics in {clock.Elapsed.TotalSeconds:0.0} s");
        }
        return 0;
    }

    private static Rows Generate(int models, int versions, int metrics, int big, DateTimeOffset start)
    {
        var rows = new Rows();
        var random = new Random(42);
        string[] teams = ["risk", "growth", "search", "vision", "speech"];
        (string Key, string? Dataset, bool System)[] kinds =
        [
            ("auc", "holdout", false), ("auc", "test", false), ("loss", "holdout", false), ("loss", "test", false),
            ("latency_p95_ms", null, true), ("latency_p50_ms", null, true), ("f1", "holdout", false), ("precision", "holdout", false),
            ("recall", "holdout", false), ("accuracy", "holdout", false),
        ];
        long versionId = 0, metricCount = 0;
        var perVersion = (double)metrics / versions;
        for (var m = 0; m < models; m++)
        {
            var count = m == 0 ? big : (versions - big) / (models - 1) + (m - 1 < (versions - big) % (models - 1) ? 1 : 0);
            var created = start.AddMinutes(m);
            var updated = created.AddDays(random.Next(0, 300));
            rows.Models.Add(new ModelRow(m + 1, $"model-{m:D4}", m % 3 == 0 ? $"Generated model {m} for the {teams[m % teams.Length]} team" : null,
                count, created, updated, teams[m % teams.Length]));
            var production = count >= 2 ? count - 1 : 0; // the newest but one
            for (var n = 1; n <= count; n++)
            {
                versionId++;
                var stage = n == production ? "Production" : n % 10 == 0 ? "Staging" : n < production - 5 && n % 3 == 0 ? "Archived" : "None";
                var at = created.AddMinutes(n);
                rows.Versions.Add(new VersionRow(versionId, m + 1, n, stage, at));
                if (stage == "Production") rows.History.Add(new HistoryRow(m + 1, at.AddSeconds(30), versionId, "Staging", "Production"));
                // This version's share of the metrics, so that the total comes out exact.
                var target = (long)Math.Round(perVersion * versionId);
                for (var k = 0; metricCount < target; k++, metricCount++)
                {
                    var (key, dataset, system) = kinds[k % kinds.Length];
                    var value = key.StartsWith("latency", StringComparison.Ordinal) ? 1 + random.NextDouble() * 20
                        : key == "loss" ? random.NextDouble() : 0.5 + random.NextDouble() / 2;
                    rows.Metrics.Add(new MetricRow(versionId, k < kinds.Length ? key : $"{key}_{k / kinds.Length}", value, dataset, at.AddSeconds(k), system));
                }
            }
        }
        return rows;
    }

    /// <summary>What the server keeps on each model beside its latest version's number (SQL both databases take).</summary>
    private const string PointAtLatestVersions =
        """UPDATE "Models" SET "LatestVersionId" = (SELECT v."Id" FROM "Versions" AS v WHERE v."ModelId" = "Models"."Id" AND v."Number" = "Models"."LatestVersion")""";

    private static async Task WriteSqliteAsync(SqliteConnection connection, ArtifactRow artifact, string signature, Rows rows)
    {
        var time = new DateTimeOffsetToBinaryConverter();
        long T(DateTimeOffset at) => (long)time.ConvertToProvider(at)!;
        await using (var tx = (SqliteTransaction)await connection.BeginTransactionAsync())
        {
            using (var insert = Prepare(connection, tx, "INSERT INTO Artifacts (Sha256, SizeBytes, StorageKey, CreatedAt) VALUES ($1, $2, $3, $4)", 4))
                Run(insert, artifact.Sha256, artifact.SizeBytes, artifact.StorageKey, T(artifact.CreatedAt));
            using var model = Prepare(connection, tx, "INSERT INTO Models (Id, Name, NormalizedName, Description, LatestVersion, CreatedAt, CreatedBy, UpdatedAt) VALUES ($1, $2, $2, $3, $4, $5, 'generator', $6)", 6);
            using var tag = Prepare(connection, tx, "INSERT INTO ModelTags (ModelId, Key, Value) VALUES ($1, 'team', $2)", 2);
            foreach (var r in rows.Models)
            {
                Run(model, r.Id, r.Name, r.Description, r.LatestVersion, T(r.CreatedAt), T(r.UpdatedAt));
                Run(tag, r.Id, r.Team);
            }
            using var version = Prepare(connection, tx,
                "INSERT INTO Versions (Id, ModelId, Number, ArtifactSha256, Stage, ValidationStatus, Signature, Params, CreatedAt, CreatedBy) " +
                "VALUES ($1, $2, $3, $4, $5, 'Passed', $6, '{}', $7, 'generator')", 7);
            foreach (var r in rows.Versions) Run(version, r.Id, r.ModelId, r.Number, artifact.Sha256, r.Stage, signature, T(r.CreatedAt));
            using var history = Prepare(connection, tx,
                "INSERT INTO ModelHistory (ModelId, Kind, At, VersionId, FromStage, ToStage, Actor, Reason) VALUES ($1, 'Stage', $2, $3, $4, $5, 'generator', 'generated')", 5);
            foreach (var r in rows.History) Run(history, r.ModelId, T(r.At), r.VersionId, r.FromStage, r.ToStage);
            using var metric = Prepare(connection, tx,
                "INSERT INTO Metrics (VersionId, Key, Value, Dataset, LoggedAt, LoggedBy, IsSystem) VALUES ($1, $2, $3, $4, $5, 'generator', $6)", 6);
            foreach (var r in rows.Metrics) Run(metric, r.VersionId, r.Key, r.Value, r.Dataset, T(r.LoggedAt), r.IsSystem ? 1 : 0);
            using (var latest = Prepare(connection, tx, PointAtLatestVersions, 0)) latest.ExecuteNonQuery();
            await tx.CommitAsync();
        }
        await using var analyze = connection.CreateCommand();
        analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
        await analyze.ExecuteNonQueryAsync();
    }

    private static async Task WritePostgreSqlAsync(NpgsqlConnection connection, ArtifactRow artifact, string signature, Rows rows)
    {
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using (var insert = new NpgsqlCommand("""INSERT INTO "Artifacts" ("Sha256", "SizeBytes", "StorageKey", "CreatedAt") VALUES ($1, $2, $3, $4)""", connection, tx))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = artifact.Sha256 });
                insert.Parameters.Add(new NpgsqlParameter { Value = artifact.SizeBytes });
                insert.Parameters.Add(new NpgsqlParameter { Value = artifact.StorageKey });
                insert.Parameters.Add(new NpgsqlParameter { Value = artifact.CreatedAt });
                await insert.ExecuteNonQueryAsync();
            }
            await CopyAsync(connection, """COPY "Models" ("Id", "Name", "NormalizedName", "Description", "LatestVersion", "CreatedAt", "CreatedBy", "UpdatedAt") FROM STDIN (FORMAT BINARY)""",
                rows.Models, async (w, r) =>
                {
                    await w.WriteAsync((long)r.Id, NpgsqlDbType.Bigint);
                    await w.WriteAsync(r.Name, NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.Name, NpgsqlDbType.Varchar);
                    await WriteNullableAsync(w, r.Description);
                    await w.WriteAsync(r.LatestVersion, NpgsqlDbType.Integer);
                    await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz);
                    await w.WriteAsync("generator", NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.UpdatedAt, NpgsqlDbType.TimestampTz);
                });
            await CopyAsync(connection, """COPY "ModelTags" ("ModelId", "Key", "Value") FROM STDIN (FORMAT BINARY)""", rows.Models, async (w, r) =>
            {
                await w.WriteAsync((long)r.Id, NpgsqlDbType.Bigint);
                await w.WriteAsync("team", NpgsqlDbType.Varchar);
                await w.WriteAsync(r.Team, NpgsqlDbType.Varchar);
            });
            await CopyAsync(connection,
                """COPY "Versions" ("Id", "ModelId", "Number", "ArtifactSha256", "Stage", "ValidationStatus", "Signature", "Params", "CreatedAt", "CreatedBy") FROM STDIN (FORMAT BINARY)""",
                rows.Versions, async (w, r) =>
                {
                    await w.WriteAsync(r.Id, NpgsqlDbType.Bigint);
                    await w.WriteAsync((long)r.ModelId, NpgsqlDbType.Bigint);
                    await w.WriteAsync(r.Number, NpgsqlDbType.Integer);
                    await w.WriteAsync(artifact.Sha256, NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.Stage, NpgsqlDbType.Varchar);
                    await w.WriteAsync("Passed", NpgsqlDbType.Varchar);
                    await w.WriteAsync(signature, NpgsqlDbType.Text);
                    await w.WriteAsync("{}", NpgsqlDbType.Text);
                    await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz);
                    await w.WriteAsync("generator", NpgsqlDbType.Varchar);
                });
            await CopyAsync(connection, """COPY "ModelHistory" ("ModelId", "Kind", "At", "VersionId", "FromStage", "ToStage", "Actor", "Reason") FROM STDIN (FORMAT BINARY)""",
                rows.History, async (w, r) =>
                {
                    await w.WriteAsync((long)r.ModelId, NpgsqlDbType.Bigint);
                    await w.WriteAsync("Stage", NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.At, NpgsqlDbType.TimestampTz);
                    await w.WriteAsync(r.VersionId, NpgsqlDbType.Bigint);
                    await w.WriteAsync(r.FromStage, NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.ToStage, NpgsqlDbType.Varchar);
                    await w.WriteAsync("generator", NpgsqlDbType.Varchar);
                    await w.WriteAsync("generated", NpgsqlDbType.Varchar);
                });
            await CopyAsync(connection, """COPY "Metrics" ("VersionId", "Key", "Value", "Dataset", "LoggedAt", "LoggedBy", "IsSystem") FROM STDIN (FORMAT BINARY)""",
                rows.Metrics, async (w, r) =>
                {
                    await w.WriteAsync(r.VersionId, NpgsqlDbType.Bigint);
                    await w.WriteAsync(r.Key, NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.Value, NpgsqlDbType.Double);
                    await WriteNullableAsync(w, r.Dataset);
                    await w.WriteAsync(r.LoggedAt, NpgsqlDbType.TimestampTz);
                    await w.WriteAsync("generator", NpgsqlDbType.Varchar);
                    await w.WriteAsync(r.IsSystem, NpgsqlDbType.Boolean);
                });
            await using (var latest = new NpgsqlCommand(PointAtLatestVersions, connection, tx)) await latest.ExecuteNonQueryAsync();
            // Ids were given explicitly: move the identity sequences past them, so the server's own inserts do not collide.
            await using (var sequences = new NpgsqlCommand(
                """
                SELECT setval(pg_get_serial_sequence('"Models"', 'Id'), (SELECT max("Id") FROM "Models"));
                SELECT setval(pg_get_serial_sequence('"Versions"', 'Id'), (SELECT max("Id") FROM "Versions"));
                """, connection, tx))
                await sequences.ExecuteNonQueryAsync();
            await tx.CommitAsync();
        }
        // VACUUM as well, as autovacuum soon would: the search's index-only scans need the visibility map.
        await using var analyze = new NpgsqlCommand("VACUUM ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync();

        static Task WriteNullableAsync(NpgsqlBinaryImporter w, string? value) =>
            value is null ? w.WriteNullAsync() : w.WriteAsync(value, NpgsqlDbType.Varchar);
    }

    private static async Task CopyAsync<T>(NpgsqlConnection connection, string copy, IEnumerable<T> rows, Func<NpgsqlBinaryImporter, T, Task> write)
    {
        await using var importer = await connection.BeginBinaryImportAsync(copy);
        foreach (var row in rows)
        {
            await importer.StartRowAsync();
            await write(importer, row);
        }
        await importer.CompleteAsync();
    }

    private static byte[] IdentityModel()
    {
        var graph = new GraphHeader { Name = "identity" };
        graph.Input.Add(Tensor("x"));
        graph.Output.Add(Tensor("y"));
        var node = new NodeHeader { OpType = "Identity", Name = "identity" };
        node.Input.Add("x");
        node.Output.Add("y");
        graph.Node.Add(node);
        var model = new ModelHeader { IrVersion = 8, ProducerName = "registry-generator", ProducerVersion = "1", Graph = graph };
        model.OpsetImport.Add(new OperatorSetId { Domain = "", Version = 17 });
        return model.ToByteArray();

        static ValueInfo Tensor(string name)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
            return new ValueInfo { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypes.Float, Shape = shape } } };
        }
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction tx, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        for (var i = 1; i <= parameters; i++) command.Parameters.Add(new SqliteParameter($"${i}", null));
        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
        command.ExecuteNonQuery();
    }

    private sealed class Rows
    {
        public List<ModelRow> Models { get; } = [];
        public List<VersionRow> Versions { get; } = [];
        public List<HistoryRow> History { get; } = [];
        public List<MetricRow> Metrics { get; } = [];
    }

    private sealed record ArtifactRow(string Sha256, long SizeBytes, string StorageKey, DateTimeOffset CreatedAt);

    private sealed record ModelRow(int Id, string Name, string? Description, int LatestVersion, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string Team);

    private readonly record struct VersionRow(long Id, int ModelId, int Number, string Stage, DateTimeOffset CreatedAt);

    private sealed record HistoryRow(int ModelId, DateTimeOffset At, long VersionId, string FromStage, string ToStage);

    private readonly record struct MetricRow(long VersionId, string Key, double Value, string? Dataset, DateTimeOffset LoggedAt, bool IsSystem);
}
