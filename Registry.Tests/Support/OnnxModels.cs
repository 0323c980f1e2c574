using Google.Protobuf;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;

namespace Registry.Tests.Support;

/// <summary>Builds ONNX models in C# with the project's own schema.</summary>
public static class OnnxModels
{
    /// <summary>A tensor value: dims are numbers (fixed), strings (symbolic) or null (unknown).</summary>
    public static ValueInfo Tensor(string name, int elementType, params object?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => new TensorShapeProto.Types.Dimension(),
            });
        }
        return new ValueInfo
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }

    public static NodeHeader Node(string opType, string[] inputs, string[] outputs, string domain = "")
    {
        var node = new NodeHeader { OpType = opType, Domain = domain, Name = $"{opType}_{outputs.FirstOrDefault()}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    public static ModelHeader Model(GraphHeader graph, long irVersion = 8, long opset = 17, string producer = "registry-tests")
    {
        var model = new ModelHeader { IrVersion = irVersion, ProducerName = producer, ProducerVersion = "1.0", Graph = graph };
        model.OpsetImport.Add(new OperatorSetId { Domain = "", Version = opset });
        return model;
    }

    /// <summary>y = x, with a symbolic batch dimension: the smallest useful model.</summary>
    public static byte[] Identity(string producerVersion = "1.0")
    {
        var graph = new GraphHeader { Name = "identity" };
        graph.Input.Add(Tensor("x", ElementTypes.Float, "batch", 3));
        graph.Output.Add(Tensor("y", ElementTypes.Float, "batch", 3));
        graph.Node.Add(Node("Identity", ["x"], ["y"]));
        var model = Model(graph);
        model.ProducerVersion = producerVersion;
        return model.ToByteArray();
    }

    /// <summary>y = x · W + b with float weights of the given sizes, written as raw_data.</summary>
    public static byte[] Linear(int inFeatures = 4, int outFeatures = 2, int seed = 1)
    {
        var random = new Random(seed);
        var w = Enumerable.Range(0, inFeatures * outFeatures).Select(_ => (float)random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, outFeatures).Select(_ => (float)random.NextDouble()).ToArray();
        var graph = new GraphHeader { Name = "linear" };
        graph.Input.Add(Tensor("x", ElementTypes.Float, "batch", inFeatures));
        graph.Output.Add(Tensor("y", ElementTypes.Float, "batch", outFeatures));
        graph.Node.Add(Node("MatMul", ["x", "W"], ["xw"]));
        graph.Node.Add(Node("Add", ["xw", "b"], ["y"]));
        return OnnxModelWriter.ToBytes(Model(graph),
        [
            InitializerPayload.FromFloats("W", [inFeatures, outFeatures], w),
            InitializerPayload.FromFloats("b", [outFeatures], b),
        ]);
    }
}
