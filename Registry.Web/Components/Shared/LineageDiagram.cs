using System.Globalization;
using System.Text;
using Registry.Core.Catalog;

namespace Registry.Web.Components.Shared;

/// <summary>
/// Turns a lineage graph into Mermaid flowchart source. Nothing a user typed reaches the source
/// unescaped: node ids are generated (n0, n1…), and every label character outside a small safe set
/// is written as a Mermaid entity code (#60; for '&lt;'), so a dataset named <c>"]; click…</c> stays text.
/// </summary>
public static class LineageDiagram
{
    private const int MaxLabel = 60;

    public static string ToMermaid(LineageGraph graph)
    {
        var ids = graph.Nodes.Select((n, i) => (n.Id, Key: $"n{i.ToString(CultureInfo.InvariantCulture)}")).ToDictionary(x => x.Id, x => x.Key, StringComparer.Ordinal);
        var sb = new StringBuilder();
        // Right to left: a version's parents, datasets and source sit to its left, its descendants to its right.
        sb.Append("flowchart RL\n");
        foreach (var node in graph.Nodes)
        {
            var key = ids[node.Id];
            var label = Escape(LabelOf(node));
            sb.Append("  ").Append(key).Append(node.Kind switch
            {
                "dataset" => $"[(\"{label}\")]",
                "source" => $"{{{{\"{label}\"}}}}",
                _ => $"[\"{label}\"]",
            }).Append('\n');
        }
        foreach (var edge in graph.Edges)
        {
            if (!ids.TryGetValue(edge.From, out var from) || !ids.TryGetValue(edge.To, out var to)) continue;
            sb.Append("  ").Append(from).Append(" -->|\"").Append(Escape(edge.Relation)).Append("\"| ").Append(to).Append('\n');
        }
        foreach (var node in graph.Nodes.Where(n => n.Href is not null))
            sb.Append("  click ").Append(ids[node.Id]).Append(" href \"").Append(Escape(node.Href!)).Append("\"\n");
        sb.Append("  classDef root stroke-width:3px\n");
        if (ids.TryGetValue(graph.Root, out var root)) sb.Append("  class ").Append(root).Append(" root\n");
        return sb.ToString();
    }

    public static string LabelOf(LineageNode node) => node.Kind switch
    {
        "version" => $"{node.Model} v{node.Version}{(node.Stage is { } s && s != Stage.None ? $" · {s}" : "")}",
        "dataset" => Shorten(node.Name ?? "dataset") + (node.Digest is { } d ? $" @{Shorten(d, 16)}" : ""),
        "source" => node.Commit is { } c ? $"commit {Shorten(c, 12)}" : "run",
        _ => node.Id,
    };

    private static string Shorten(string s, int max = MaxLabel) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>Letters, digits and a few punctuation marks pass; everything else becomes a #NNN; entity code.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || " .-_/:@".Contains((char)rune.Value, StringComparison.Ordinal)))
                sb.Append((char)rune.Value);
            else if (!rune.IsAscii && Rune.IsLetterOrDigit(rune))
                sb.Append(rune.ToString());
            else
                sb.Append('#').Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
        }
        return sb.ToString();
    }
}
