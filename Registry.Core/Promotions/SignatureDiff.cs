using Registry.Core.Onnx;

namespace Registry.Core.Promotions;

public enum DiffVerdict
{
    /// <summary>Callers of the other version keep working.</summary>
    Compatible,
    /// <summary>Some caller of the other version would fail.</summary>
    Breaking,
}

/// <summary>One difference between two signatures, with what it means for callers.</summary>
public sealed record SignatureDifference(string Kind, string Name, DiffVerdict Verdict, string Message);

/// <summary>How a candidate's signature differs from a baseline's (usually the production version's).</summary>
public sealed record SignatureComparison(IReadOnlyList<SignatureDifference> Differences)
{
    public bool Compatible => Differences.All(d => d.Verdict == DiffVerdict.Compatible);

    public IEnumerable<SignatureDifference> Breaking => Differences.Where(d => d.Verdict == DiffVerdict.Breaking);
}

/// <summary>
/// Compares the graph inputs and outputs of two versions as their callers see them. Breaking: a
/// removed or renamed input or output, an added input (callers do not send it), a changed element
/// type, a changed rank, a changed fixed dimension, a symbolic dimension that became fixed.
/// Compatible: a fixed dimension that became symbolic, an added output, a renamed symbolic dimension.
/// </summary>
public static class SignatureDiff
{
    public static SignatureComparison Compare(ModelSignature candidate, ModelSignature baseline)
    {
        var differences = new List<SignatureDifference>();
        Side(differences, "input", candidate.Inputs, baseline.Inputs);
        Side(differences, "output", candidate.Outputs, baseline.Outputs);
        return new SignatureComparison(differences);
    }

    private static void Side(List<SignatureDifference> differences, string kind, IReadOnlyList<ValueSpec> candidate, IReadOnlyList<ValueSpec> baseline)
    {
        var newNames = candidate.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var oldNames = baseline.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var added = candidate.Where(v => !oldNames.Contains(v.Name)).ToList();

        foreach (var old in baseline)
        {
            var now = candidate.FirstOrDefault(v => v.Name == old.Name);
            if (now is not null)
            {
                Compare(differences, kind, old, now);
                continue;
            }
            // Gone: a renaming when exactly one new value of the same type and shape took its place.
            var twin = added.Where(v => v.Type == old.Type && SameShape(v.Shape, old.Shape)).ToList();
            if (twin.Count == 1)
            {
                added.Remove(twin[0]);
                differences.Add(new($"{kind} renamed", old.Name, DiffVerdict.Breaking,
                    $"{Capital(kind)} '{old.Name}' is now called '{twin[0].Name}' ({Describe(old)}); callers use the old name."));
            }
            else
            {
                differences.Add(new($"{kind} removed", old.Name, DiffVerdict.Breaking,
                    $"{Capital(kind)} '{old.Name}' ({Describe(old)}) is gone; callers {(kind == "input" ? "send" : "read")} it."));
            }
        }
        foreach (var extra in added)
        {
            differences.Add(kind == "input"
                ? new($"input added", extra.Name, DiffVerdict.Breaking,
                    $"Input '{extra.Name}' ({Describe(extra)}) is new; callers do not send it yet.")
                : new($"output added", extra.Name, DiffVerdict.Compatible,
                    $"Output '{extra.Name}' ({Describe(extra)}) is new; callers that do not read it are unaffected."));
        }
    }

    private static void Compare(List<SignatureDifference> differences, string kind, ValueSpec old, ValueSpec now)
    {
        if (old.Type != now.Type)
        {
            differences.Add(new("type changed", old.Name, DiffVerdict.Breaking,
                $"{Capital(kind)} '{old.Name}' was {old.Type}, is now {now.Type}."));
            return;
        }
        if (old.Shape is null || now.Shape is null)
        {
            if (old.Shape is not null)
                differences.Add(new("shape no longer declared", old.Name, DiffVerdict.Compatible,
                    $"{Capital(kind)} '{old.Name}' no longer declares its shape (was {old.ShapeText}); the runtime checks what it receives."));
            else if (now.Shape is not null)
                differences.Add(new("shape now declared", old.Name, DiffVerdict.Breaking,
                    $"{Capital(kind)} '{old.Name}' now requires shape {now.ShapeText}; callers may send others."));
            return;
        }
        if (old.Shape.Count != now.Shape.Count)
        {
            differences.Add(new("rank changed", old.Name, DiffVerdict.Breaking,
                $"{Capital(kind)} '{old.Name}' was {old.ShapeText} (rank {old.Shape.Count}), is now {now.ShapeText} (rank {now.Shape.Count})."));
            return;
        }
        for (var i = 0; i < old.Shape.Count; i++)
        {
            var (was, isNow) = (old.Shape[i], now.Shape[i]);
            if (was.Value is { } a && isNow.Value is { } b)
            {
                if (a != b)
                    differences.Add(new("dimension changed", old.Name, DiffVerdict.Breaking,
                        $"{Capital(kind)} '{old.Name}' dimension {i} was {a}, is now {b} ({old.ShapeText} → {now.ShapeText})."));
            }
            else if (was.Value is { } fixedSize)
            {
                differences.Add(new("dimension now symbolic", old.Name, DiffVerdict.Compatible,
                    $"{Capital(kind)} '{old.Name}' dimension {i} was fixed at {fixedSize}, is now {isNow} ({old.ShapeText} → {now.ShapeText}); {fixedSize} still fits."));
            }
            else if (isNow.Value is { } nowFixed)
            {
                differences.Add(new("dimension now fixed", old.Name, DiffVerdict.Breaking,
                    $"{Capital(kind)} '{old.Name}' dimension {i} was {was}, is now fixed at {nowFixed} ({old.ShapeText} → {now.ShapeText})."));
            }
            else if (was.Param != isNow.Param)
            {
                differences.Add(new("dimension renamed", old.Name, DiffVerdict.Compatible,
                    $"{Capital(kind)} '{old.Name}' dimension {i} is called {isNow}, was {was}; any size still fits."));
            }
        }
    }

    private static bool SameShape(IReadOnlyList<Dim>? a, IReadOnlyList<Dim>? b) =>
        a is null ? b is null : b is not null && a.Count == b.Count && a.Zip(b).All(p => p.First.Value == p.Second.Value);

    private static string Describe(ValueSpec v) => v.Shape is null ? v.Type : $"{v.Type} {v.ShapeText}";

    private static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
