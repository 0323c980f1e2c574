using Google.Protobuf;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;

namespace Registry.Tests.Support;

/// <summary>Models built to break a validator: each must end Failed (or Warning) for its own reason.</summary>
public static class AdversarialModels
{
    private static GraphHeader AddGraph(params NodeHeader[] nodes)
    {
        var graph = new GraphHeader { Name = "adversarial" };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 4));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, 4));
        graph.Node.AddRange(nodes);
        return graph;
    }

    /// <summary>y = x + W, where W's bytes are said to live in an external file at <paramref name="location"/>.</summary>
    public static byte[] ExternalData(string location)
    {
        var graph = AddGraph(OnnxModels.Node("Add", ["x", "W"], ["y"]));
        var w = new TensorHeader { Name = "W", DataType = ElementTypes.Float, Dims = { 4 }, DataLocation = 1 };
        w.ExternalData.Add(new StringStringEntry { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntry { Key = "offset", Value = "0" });
        w.ExternalData.Add(new StringStringEntry { Key = "length", Value = "16" });
        graph.Initializer.Add(w);
        return OnnxModels.Model(graph).ToByteArray();
    }

    public static byte[] CustomDomainOperator()
    {
        var model = OnnxModels.Model(AddGraph(OnnxModels.Node("Frobnicate", ["x"], ["y"], domain: "com.example")));
        model.OpsetImport.Add(new OperatorSetId { Domain = "com.example", Version = 1 });
        return model.ToByteArray();
    }

    /// <summary>Imports a custom domain it never uses: no reason to refuse it.</summary>
    public static byte[] UnusedCustomImport()
    {
        var model = OnnxModels.Model(AddGraph(OnnxModels.Node("Relu", ["x"], ["y"])));
        model.OpsetImport.Add(new OperatorSetId { Domain = "com.example", Version = 1 });
        return model.ToByteArray();
    }

    public static byte[] Opset(long version) => OnnxModels.Model(AddGraph(OnnxModels.Node("Relu", ["x"], ["y"])), opset: version).ToByteArray();

    /// <summary>An input of 100,000 × 100,000 × 1,000 floats: 40 TB if anyone allocated it.</summary>
    public static byte[] HugeInput()
    {
        var graph = new GraphHeader { Name = "huge" };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 100_000, 100_000, 1_000));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, 100_000, 100_000, 1_000));
        graph.Node.Add(OnnxModels.Node("Relu", ["x"], ["y"]));
        return OnnxModels.Model(graph).ToByteArray();
    }

    /// <summary>y = x · NaN: runs fine, and every output is NaN.</summary>
    public static byte[] AlwaysNaN()
    {
        var graph = AddGraph(OnnxModels.Node("Mul", ["x", "nan"], ["y"]));
        return OnnxModelWriter.ToBytes(OnnxModels.Model(graph), [InitializerPayload.FromFloats("nan", [1], [float.NaN])]);
    }

    /// <summary>A Loop whose body passes x through, <paramref name="tripCount"/> times.</summary>
    public static byte[] Loop(long tripCount)
    {
        var body = new GraphHeader { Name = "body" };
        body.Input.Add(OnnxModels.Tensor("i", ElementTypes.Int64));
        body.Input.Add(OnnxModels.Tensor("cond_in", ElementTypes.Bool));
        body.Input.Add(OnnxModels.Tensor("v_in", ElementTypes.Float, 4));
        body.Output.Add(OnnxModels.Tensor("cond_out", ElementTypes.Bool));
        body.Output.Add(OnnxModels.Tensor("v_out", ElementTypes.Float, 4));
        body.Node.Add(OnnxModels.Node("Identity", ["cond_in"], ["cond_out"]));
        body.Node.Add(OnnxModels.Node("Identity", ["v_in"], ["v_out"]));

        var loop = OnnxModels.Node("Loop", ["trip", "keep_going", "x"], ["y"]);
        loop.Attribute.Add(new AttributeHeader { Name = "body", Type = 5, G = body });
        var graph = AddGraph(loop);
        var trip = new TensorHeader { Name = "trip", DataType = ElementTypes.Int64 };
        var keepGoing = new TensorHeader { Name = "keep_going", DataType = ElementTypes.Bool };
        return OnnxModelWriter.ToBytes(OnnxModels.Model(graph),
        [
            new InitializerPayload(trip, 8, s => s.Write(BitConverter.GetBytes(tripCount))),
            new InitializerPayload(keepGoing, 1, s => s.WriteByte(1)),
        ]);
    }

    /// <summary>ConstantOfShape of <paramref name="dims"/> floats: tens of GiB when the dims say so.</summary>
    public static byte[] ConstantOfShape(params long[] dims)
    {
        var graph = new GraphHeader { Name = "blowup" };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 1));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, dims.Select(d => (object?)d).ToArray()));
        graph.Output.Add(OnnxModels.Tensor("z", ElementTypes.Float, 1));
        graph.Node.Add(OnnxModels.Node("ConstantOfShape", ["shape"], ["y"]));
        graph.Node.Add(OnnxModels.Node("Identity", ["x"], ["z"]));
        var shape = new TensorHeader { Name = "shape", DataType = ElementTypes.Int64, Dims = { dims.Length } };
        return OnnxModelWriter.ToBytes(OnnxModels.Model(graph),
            [new InitializerPayload(shape, dims.Length * 8, s => { foreach (var d in dims) s.Write(BitConverter.GetBytes(d)); })]);
    }

    /// <summary>Reshape to a shape given as an input: synthesized zeros make no valid shape, real inputs would.</summary>
    public static byte[] NeedsRealInputs()
    {
        var graph = new GraphHeader { Name = "reshape" };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 2, 3));
        graph.Input.Add(OnnxModels.Tensor("shape", ElementTypes.Int64, 1));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, "n"));
        graph.Node.Add(OnnxModels.Node("Reshape", ["x", "shape"], ["y"]));
        return OnnxModels.Model(graph).ToByteArray();
    }
}
