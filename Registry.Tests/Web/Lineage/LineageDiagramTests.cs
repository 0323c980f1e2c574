using Registry.Core.Catalog;
using Registry.Web.Components.Shared;

namespace Registry.Tests.Web.Lineage;

public class LineageDiagramTests
{
    [Fact]
    public void Free_text_reaches_the_mermaid_source_only_as_entity_codes()
    {
        var hostile = "x\"]\nclick n0 call alert(1)\n%%{init: {}}%% <img src=x onerror=alert(1)> `md`";
        var graph = new LineageGraph("version:m/1", 3, "both",
            [
                new LineageNode("version:m/1", "version", Model: "m", Version: 1, Stage: Stage.Production, Href: "/models/m/versions/1"),
                new LineageNode($"dataset:{hostile}", "dataset", Name: hostile),
            ],
            [new LineageEdge("version:m/1", $"dataset:{hostile}", "dataset")], false);

        var source = LineageDiagram.ToMermaid(graph);

        var lines = source.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([
            "flowchart RL",
            "  n0[\"m v1 #183; Production\"]",
            "  n1[(\"" + LineageDiagram.Escape(LineageDiagram.LabelOf(graph.Nodes[1])) + "\")]",
            "  n0 -->|\"dataset\"| n1",
            "  click n0 href \"/models/m/versions/1\"",
            "  classDef root stroke-width:3px",
            "  class n0 root",
        ], lines);
        var label = LineageDiagram.Escape(hostile);
        Assert.DoesNotContain('"', label);
        Assert.DoesNotContain('<', label);
        Assert.DoesNotContain('\n', label);
        Assert.DoesNotContain(']', label);
        Assert.DoesNotContain('%', label);
        Assert.DoesNotContain('`', label);
        Assert.StartsWith("x#34;#93;#10;click n0 call alert#40;1#41;", label, StringComparison.Ordinal);
    }
}
