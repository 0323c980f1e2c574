using Registry.Core.Onnx.Proto;

namespace Registry.Core.Onnx;

/// <summary>Visits every node and tensor of a model: the main graph, nested subgraphs and local functions.</summary>
public static class OnnxWalker
{
    /// <summary>Every node with the depth of the graph holding it (0 for the main graph and function bodies).</summary>
    public static IEnumerable<(NodeHeader Node, int Depth)> Nodes(ModelHeader model)
    {
        foreach (var item in Nodes(model.Graph, 0)) yield return item;
        foreach (var function in model.Functions)
            foreach (var node in function.Node)
                foreach (var item in NodeAndSubgraphs(node, 0))
                    yield return item;
    }

    /// <summary>
    /// Every tensor header: initializers and sparse initializers of every graph (main graph,
    /// subgraphs, subgraphs inside local functions) and tensors held in node attributes.
    /// </summary>
    public static IEnumerable<TensorHeader> Tensors(ModelHeader model)
    {
        foreach (var t in Initializers(model.Graph)) yield return t;
        // Nodes() visits every node at every depth, function bodies included; each node's attributes
        // hold its constant tensors and the subgraphs whose initializers are not yet counted.
        foreach (var (node, _) in Nodes(model))
            foreach (var attribute in node.Attribute)
            {
                if (attribute.T is not null) yield return attribute.T;
                foreach (var t in attribute.Tensors) yield return t;
                foreach (var s in SparseParts(attribute.SparseTensor)) yield return s;
                foreach (var sparse in attribute.SparseTensors)
                    foreach (var s in SparseParts(sparse)) yield return s;
                foreach (var t in Initializers(attribute.G)) yield return t;
                foreach (var g in attribute.Graphs)
                    foreach (var t in Initializers(g)) yield return t;
            }
    }

    /// <summary>The deepest nesting of subgraphs (0 when there are none).</summary>
    public static int MaxDepth(ModelHeader model) => Nodes(model).Select(n => n.Depth).DefaultIfEmpty(0).Max();

    private static IEnumerable<(NodeHeader, int)> Nodes(GraphHeader? graph, int depth)
    {
        if (graph is null) yield break;
        foreach (var node in graph.Node)
            foreach (var item in NodeAndSubgraphs(node, depth))
                yield return item;
    }

    private static IEnumerable<(NodeHeader, int)> NodeAndSubgraphs(NodeHeader node, int depth)
    {
        yield return (node, depth);
        foreach (var attribute in node.Attribute)
        {
            foreach (var item in Nodes(attribute.G, depth + 1)) yield return item;
            foreach (var g in attribute.Graphs)
                foreach (var item in Nodes(g, depth + 1))
                    yield return item;
        }
    }

    /// <summary>A graph's own initializers, not those of its subgraphs.</summary>
    private static IEnumerable<TensorHeader> Initializers(GraphHeader? graph)
    {
        if (graph is null) yield break;
        foreach (var t in graph.Initializer) yield return t;
        foreach (var sparse in graph.SparseInitializer)
            foreach (var s in SparseParts(sparse)) yield return s;
    }

    private static IEnumerable<TensorHeader> SparseParts(SparseTensorHeader? sparse)
    {
        if (sparse?.Values is { } values) yield return values;
        if (sparse?.Indices is { } indices) yield return indices;
    }
}
