using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Registry.Core;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Persistence;
using Registry.Core.Storage;
using Registry.Data;

namespace Registry.Web.Cli;

/// <summary>
/// Fills an empty data folder with a large synthetic catalogue, for benchmarks:
/// <c>dotnet Registry.Web.dll generate-catalogue --models 1000 --versions 100000 --metrics 1000000 [--big 1000]</c>.
/// Model 0 (<c>model-0000</c>) gets <c>--big</c> versions, the rest share the remainder; every
/// version has the same small ONNX artifact (stored once, as uploads are) and its share of metrics
/// (auc and loss on two datasets, then others); one version in ten of each model is in staging and
/// the newest but one in production, with history rows, as promotions would leave them.
/// Rows are written with prepared statements in large transactions: a million metrics take seconds.
/// </summary>
public static class CatalogueGenerator
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
        if (models < 1 || versions < models || big > versions - (models - 1))
        {
            await Console.Error.WriteLineAsync("registry: need 1 ≤ models ≤ versions, and --big leaving at least one version for every other model.");
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder(configuration.ToArray());
        builder.Logging.ClearProviders();
        builder.Services.AddRegistryCore().AddRegistryData();
        await using var app = builder.Build();
        await app.Services.InitializeRegistryDataAsync();

        var clock = Stopwatch.StartNew();
        var factory = app.Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        if (await db.Models.AnyAsync())
        {
            await Console.Error.WriteLineAsync("registry: the catalogue is not empty; generate into a fresh data folder.");
            return 1;
        }

        // One real artifact, stored as an upload would store it.
        var bytes = IdentityModel();
        var store = app.Services.GetRequiredService<IArtifactStore>();
        var staged = (await store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None)).Value;
        await using (staged)
        {
            var storageKey = await store.CommitAsync(staged, CancellationToken.None);
            var signature = JsonSerializer.Serialize(OnnxHeaderReader.Read(new MemoryStream(bytes)).Value, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            var time = new DateTimeOffsetToBinaryConverter();
            long T(DateTimeOffset at) => (long)time.ConvertToProvider(at)!;
            var start = DateTimeOffset.UtcNow.AddDays(-400);

            var connection = (SqliteConnection)db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync();
            Exec(connection, tx, "INSERT INTO Artifacts (Sha256, SizeBytes, StorageKey, CreatedAt) VALUES ($1, $2, $3, $4)",
                staged.Sha256, staged.SizeBytes, storageKey, T(start));

            var model = Prepare(connection, tx, "INSERT INTO Models (Id, Name, NormalizedName, Description, LatestVersion, CreatedAt, CreatedBy, UpdatedAt) VALUES ($1, $2, $2, $3, $4, $5, 'generator', $6)", 6);
            var tag = Prepare(connection, tx, "INSERT INTO ModelTags (ModelId, Key, Value) VALUES ($1, 'team', $2)", 2);
            var version = Prepare(connection, tx,
                "INSERT INTO Versions (Id, ModelId, Number, ArtifactSha256, Stage, ValidationStatus, Signature, Params, CreatedAt, CreatedBy) " +
                "VALUES ($1, $2, $3, $4, $5, 'Passed', $6, '{}', $7, 'generator')", 7);
            var metric = Prepare(connection, tx,
                "INSERT INTO Metrics (VersionId, Key, Value, Dataset, LoggedAt, LoggedBy, IsSystem) VALUES ($1, $2, $3, $4, $5, 'generator', $6)", 6);
            var history = Prepare(connection, tx,
                "INSERT INTO ModelHistory (ModelId, Kind, At, VersionId, FromStage, ToStage, Actor, Reason) VALUES ($1, 'Stage', $2, $3, $4, $5, 'generator', 'generated')", 5);

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
                Run(model, m + 1, $"model-{m:D4}", m % 3 == 0 ? $"Generated model {m} for the {teams[m % teams.Length]} team" : null, count, T(created), T(updated));
                Run(tag, m + 1, teams[m % teams.Length]);
                var production = count >= 2 ? count - 1 : 0; // the newest but one
                for (var n = 1; n <= count; n++)
                {
                    versionId++;
                    var stage = n == production ? "Production" : n % 10 == 0 ? "Staging" : n < production - 5 && n % 3 == 0 ? "Archived" : "None";
                    var at = created.AddMinutes(n);
                    Run(version, versionId, m + 1, n, staged.Sha256, stage, signature, T(at));
                    if (stage == "Production")
                        Run(history, m + 1, T(at.AddSeconds(30)), versionId, "Staging", "Production");
                    // This version's share of the metrics, so that the total comes out exact.
                    var target = (long)Math.Round(perVersion * versionId);
                    for (var k = 0; metricCount < target; k++, metricCount++)
                    {
                        var (key, dataset, system) = kinds[k % kinds.Length];
                        var value = key.StartsWith("latency", StringComparison.Ordinal) ? 1 + random.NextDouble() * 20
                            : key == "loss" ? random.NextDouble() : 0.5 + random.NextDouble() / 2;
                        Run(metric, versionId, k < kinds.Length ? key : $"{key}_{k / kinds.Length}", value, dataset, T(at.AddSeconds(k)), system ? 1 : 0);
                    }
                }
            }
            await tx.CommitAsync();
            Console.WriteLine($"generated {models} models, {versionId} versions, {metricCount} metrics in {clock.Elapsed.TotalSeconds:0.0} s");
        }
        using (var analyze = db.Database.GetDbConnection().CreateCommand())
        {
            analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
            await analyze.ExecuteNonQueryAsync();
        }
        return 0;
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

    private static void Exec(SqliteConnection connection, SqliteTransaction tx, string sql, params object?[] values)
    {
        using var command = Prepare(connection, tx, sql, values.Length);
        Run(command, values);
    }
}
