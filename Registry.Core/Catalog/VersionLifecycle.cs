using Registry.Core.Validation;

namespace Registry.Core.Catalog;

/// <summary>
/// The rules on moving a version between stages that do not depend on promotion policy: which moves
/// exist, and that a version goes to Staging or Production (leaving None, or rolling back from
/// Archived) only when its latest validation passed. Promotions are the only way versions move,
/// and they apply these rules inside the transaction that moves them.
/// </summary>
public static class VersionLifecycle
{
    private static readonly IReadOnlyDictionary<Stage, Stage[]> Moves = new Dictionary<Stage, Stage[]>
    {
        [Stage.None] = [Stage.Staging],
        [Stage.Staging] = [Stage.Production, Stage.Archived],
        [Stage.Production] = [Stage.Archived],
        // A rollback: back to production (or to staging for another look), under the same rules as a first promotion.
        [Stage.Archived] = [Stage.Production, Stage.Staging],
    };

    public static IReadOnlyList<Stage> MovesFrom(Stage from) => Moves[from];

    /// <summary>Null when the move exists; otherwise a 409-kind refusal listing the moves that do.</summary>
    public static RegistryError? CheckMove(string what, Stage from, Stage to)
    {
        if (Moves[from].Contains(to)) return null;
        var detail = from == to
            ? $"{what} is already in {to}."
            : $"{what} is in {from} and cannot move to {to}. From {from} a version can move to {string.Join(" or ", Moves[from])}.";
        return new RegistryError(ErrorKind.Conflict, "Move not allowed", detail);
    }

    /// <summary>Whether a move to this stage needs the version's latest validation to have passed.</summary>
    public static bool NeedsPassedValidation(Stage to) => to is Stage.Staging or Stage.Production;

    /// <summary>Null when the latest validation passed; otherwise what stands in the way and what to do.</summary>
    public static string? ValidationBlocker(string what, ValidationStatus? latest, IReadOnlyList<CheckResult> checks) => latest switch
    {
        ValidationStatus.Passed => null,
        null => $"{what} has never been validated. Queue a validation and wait for it to pass.",
        ValidationStatus.Failed => $"{what}'s latest validation failed ({Describe(checks)}). Fix the model and upload a new version, or re-run the validation if the cause was on the server.",
        _ => $"{what}'s validation is still {latest}. Wait for it to pass.",
    };

    private static string Describe(IReadOnlyList<CheckResult> checks)
    {
        var failed = checks.Where(c => c.Status == CheckStatus.Failed).ToList();
        return failed.Count == 0
            ? "the validator gave up on it"
            : $"failed check{(failed.Count == 1 ? "" : "s")}: {string.Join("; ", failed.Select(c => $"{c.Name} — {c.Message}"))}";
    }
}
