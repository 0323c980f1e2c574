using Microsoft.EntityFrameworkCore;
using Registry.Core.Persistence;
using Registry.Core.Validation;

namespace Registry.Core.Catalog;

/// <summary>
/// The rules on moving a version between stages that do not depend on promotion policy. For now
/// one: a version leaves <see cref="Stage.None"/> only once its latest validation has passed. The
/// promotion workflow calls this rule; nothing else moves versions.
/// </summary>
public sealed class VersionLifecycle(IDbContextFactory<RegistryDbContext> dbFactory)
{
    /// <summary>Null when the version may leave stage None; otherwise a 409-kind refusal naming what is missing.</summary>
    public async Task<RegistryError?> CheckCanLeaveNoneAsync(string modelName, int versionNumber, CancellationToken ct = default)
    {
        var normalized = RegisteredModel.Normalize(modelName);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.Versions.AsNoTracking()
            .Where(v => v.Model.NormalizedName == normalized && v.Number == versionNumber)
            .Select(v => new { v.Id, Model = v.Model.Name, v.Stage })
            .SingleOrDefaultAsync(ct);
        if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);
        if (version.Stage != Stage.None) return null;

        var latest = await db.ValidationRuns.AsNoTracking()
            .Where(r => r.VersionId == version.Id)
            .OrderByDescending(r => r.Id)
            .Select(r => new { r.Status, r.Checks })
            .FirstOrDefaultAsync(ct);
        return LeavingNone($"{version.Model} v{versionNumber}", latest?.Status, latest?.Checks ?? []);
    }

    /// <summary>The rule itself, on what the latest validation found.</summary>
    public static RegistryError? LeavingNone(string what, ValidationStatus? latest, IReadOnlyList<CheckResult> checks)
    {
        if (latest == ValidationStatus.Passed) return null;
        var detail = latest switch
        {
            null => $"{what} cannot leave stage None: it has never been validated. Queue a validation (POST …/validation) and wait for it to pass.",
            ValidationStatus.Failed => $"{what} cannot leave stage None: its latest validation failed ({Describe(checks)}). Fix the model and upload a new version, or re-run the validation if the cause was on the server.",
            _ => $"{what} cannot leave stage None: its validation is still {latest}. Wait for it to pass.",
        };
        return new RegistryError(ErrorKind.Conflict, "Validation has not passed", detail);
    }

    private static string Describe(IReadOnlyList<CheckResult> checks)
    {
        var failed = checks.Where(c => c.Status == CheckStatus.Failed).ToList();
        return failed.Count == 0
            ? "the validator gave up on it"
            : $"failed check{(failed.Count == 1 ? "" : "s")}: {string.Join("; ", failed.Select(c => $"{c.Name} — {c.Message}"))}";
    }
}
