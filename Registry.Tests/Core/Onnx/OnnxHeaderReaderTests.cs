using System.Text;
using Google.Protobuf;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Tests.Support;

namespace Registry.Tests.Core.Onnx;

public class OnnxHeaderReaderTests
{
    private static ModelSignature ReadOk(byte[] bytes)
    {
        var result = OnnxHeaderReader.Read(new MemoryStream(bytes));
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private static string ReadRefusal(byte[] bytes)
    {
        var result = OnnxHeaderReader.Read(new MemoryStream(bytes));
        Assert.False(result.IsSuccess, "expected the file to be refused");
        Assert.Equal(OnnxHeaderReader.NotAModelTitle, result.Error!.Title);
        return result.Error.Detail;
    }

    /// <summary>
    /// Every conformance model parses, and its declared inputs and outputs agree in name and element
    /// type with the reference tensors recorded beside it.
    /// </summary>
    [Fact]
    public void Every_backend_model_parses_and_matches_its_reference_data()
    {
        var cases = TestData.BackendCases();
        Assert.True(cases.Count >= 850, $"expected the 853 conformance cases, found {cases.Count} under {TestData.OnnxBackend}");
        var mismatches = new List<string>();
        var tensorsCompared = 0;
        foreach (var dir in cases)
        {
            var name = Path.GetRelativePath(TestData.OnnxBackend, dir);
            var read = OnnxHeaderReader.Read(Path.Combine(dir, "model.onnx"));
            if (!read.IsSuccess)
            {
                mismatches.Add($"{name}: {read.Error!.Detail}");
                continue;
            }
            var signature = read.Value;
            foreach (var (kind, specs) in new[] { ("input", signature.Inputs), ("output", signature.Outputs) })
            {
                for (var i = 0; i < specs.Count; i++)
                {
                    var pb = Path.Combine(dir, "test_data_set_0", $"{kind}_{i}.pb");
                    if (!File.Exists(pb))
                    {
                        mismatches.Add($"{name}: {kind} {i} ({specs[i].Name}) has no reference file");
                        continue;
                    }
                    var bytes = File.ReadAllBytes(pb);
                    var spec = specs[i];
                    if (spec.Type.StartsWith("tensor(", StringComparison.Ordinal))
                    {
                        var tensor = TensorHeader.Parser.WithDiscardUnknownFields(true).ParseFrom(bytes);
                        // The ONNX 1.12 generator stores bfloat16 reference tensors as uint16 bit patterns.
                        var expectedType = ElementTypes.Name(tensor.DataType) == "uint16" && spec.ElementType == "bfloat16"
                            ? "bfloat16" : ElementTypes.Name(tensor.DataType);
                        if (tensor.Name != spec.Name || expectedType != spec.ElementType)
                            mismatches.Add($"{name}: {kind} {i} is {spec.Name}:{spec.ElementType}, reference is {tensor.Name}:{ElementTypes.Name(tensor.DataType)}");
                        tensorsCompared++;
                    }
                    else
                    {
                        // Sequences and optionals are stored as SequenceProto / OptionalProto: name first.
                        var value = ValueHeader.Parser.WithDiscardUnknownFields(true).ParseFrom(bytes);
                        if (value.Name != spec.Name)
                            mismatches.Add($"{name}: {kind} {i} is {spec.Name} ({spec.Type}), reference is named {value.Name}");
                    }
                }
            }
            if (Directory.EnumerateFiles(Path.Combine(dir, "test_data_set_0"), "input_*.pb").Count() != signature.Inputs.Count)
                mismatches.Add($"{name}: {signature.Inputs.Count} inputs declared but a different number of reference inputs");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(30)));
        Assert.True(tensorsCompared > 2500, $"compared only {tensorsCompared} tensors");
    }

    [Fact]
    public void Signature_records_types_shapes_and_symbolic_dimensions()
    {
        var graph = new GraphHeader { Name = "g" };
        graph.Input.Add(OnnxModels.Tensor("image", ElementTypes.Float, "batch", 3, 224, null));
        graph.Input.Add(OnnxModels.Tensor("mask", ElementTypes.Bool, 4));
        graph.Output.Add(OnnxModels.Tensor("logits", ElementTypes.Float16, "batch", 1000));
        graph.Node.Add(OnnxModels.Node("Identity", ["image"], ["logits"]));
        var model = OnnxModels.Model(graph, irVersion: 9, opset: 19, producer: "pytorch");
        model.OpsetImport.Add(new OperatorSetId { Domain = "com.microsoft", Version = 1 });
        model.MetadataProps.Add(new StringStringEntry { Key = "author", Value = "team-risk" });

        var s = ReadOk(model.ToByteArray());

        Assert.Equal(9, s.IrVersion);
        Assert.Equal([new OpsetImport("ai.onnx", 19), new OpsetImport("com.microsoft", 1)], s.Opsets);
        Assert.Equal("pytorch", s.ProducerName);
        Assert.Equal("g", s.GraphName);
        var image = s.Inputs[0];
        Assert.Equal(("image", "tensor(float)", "float"), (image.Name, image.Type, image.ElementType));
        Assert.Equal([new Dim(null, "batch"), new Dim(3, null), new Dim(224, null), Dim.Unknown], image.Shape);
        Assert.Equal("[batch, 3, 224, ?]", image.ShapeText);
        Assert.Equal("tensor(bool)", s.Inputs[1].Type);
        Assert.Equal("tensor(float16)", s.Outputs[0].Type);
        Assert.Equal("team-risk", s.MetadataProps["author"]);
    }

    [Fact]
    public void A_negative_dimension_is_read_as_unknown_as_onnx_runtime_does()
    {
        var graph = new GraphHeader { Node = { OnnxModels.Node("Relu", ["x"], ["y"]) } };
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, -1L, 3));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, -1L, 3));
        var s = ReadOk(OnnxModels.Model(graph).ToByteArray());
        Assert.Equal("[?, 3]", s.Inputs[0].ShapeText);
    }

    [Fact]
    public void Initializers_count_as_parameters_and_are_not_inputs()
    {
        var s = ReadOk(OnnxModels.Linear(inFeatures: 4, outFeatures: 2));
        Assert.Equal(4 * 2 + 2, s.ParameterCount);
        Assert.Equal(2, s.InitializerCount);
        Assert.Equal(["x"], s.Inputs.Select(i => i.Name));
        Assert.Equal([new OperatorCount("ai.onnx", "Add", 1), new OperatorCount("ai.onnx", "MatMul", 1)], s.Operators);
    }

    [Fact]
    public void Initializers_listed_among_graph_inputs_are_left_out_of_the_signature()
    {
        // IR < 4 required initializers to be declared as graph inputs too.
        var graph = new GraphHeader();
        graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 2));
        graph.Input.Add(OnnxModels.Tensor("w", ElementTypes.Float, 2));
        graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, 2));
        graph.Initializer.Add(new TensorHeader { Name = "w", DataType = ElementTypes.Float, Dims = { 2 } });
        graph.Node.Add(OnnxModels.Node("Add", ["x", "w"], ["y"]));

        var s = ReadOk(OnnxModels.Model(graph, irVersion: 3, opset: 7).ToByteArray());

        Assert.Equal(["x"], s.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Operators_inside_subgraphs_and_custom_domains_are_counted()
    {
        var then = new GraphHeader { Node = { OnnxModels.Node("Relu", ["x"], ["a"]) } };
        var otherwise = new GraphHeader { Node = { OnnxModels.Node("Relu", ["x"], ["b"]), OnnxModels.Node("Neg", ["b"], ["c"]) } };
        var @if = OnnxModels.Node("If", ["cond"], ["y"]);
        @if.Attribute.Add(new AttributeHeader { Name = "then_branch", G = then });
        @if.Attribute.Add(new AttributeHeader { Name = "else_branch", G = otherwise });
        var graph = new GraphHeader { Node = { @if, OnnxModels.Node("FusedGemm", ["y"], ["z"], domain: "com.microsoft") } };
        graph.Input.Add(OnnxModels.Tensor("cond", ElementTypes.Bool));
        graph.Output.Add(OnnxModels.Tensor("z", ElementTypes.Float, 1));

        var s = ReadOk(OnnxModels.Model(graph).ToByteArray());

        Assert.Equal(
        [
            new OperatorCount("ai.onnx", "If", 1), new OperatorCount("ai.onnx", "Neg", 1), new OperatorCount("ai.onnx", "Relu", 2),
            new OperatorCount("com.microsoft", "FusedGemm", 1),
        ], s.Operators);
        Assert.Equal(5, s.NodeCount);
    }

    [Fact]
    public void An_empty_file_is_refused_as_empty() =>
        Assert.Equal("The file is empty (0 bytes). Choose the .onnx file itself.", ReadRefusal([]));

    [Fact]
    public void Random_bytes_are_refused()
    {
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        Assert.StartsWith("The file", ReadRefusal(bytes));
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><body>Sign in</body></html>", "is an HTML page")]
    [InlineData("{\"model\": \"not really\"}", "is a JSON text file")]
    [InlineData("just some notes about the model\n", "is a text file")]
    public void Text_files_are_refused_saying_what_they_are(string text, string description) =>
        Assert.Contains(description, ReadRefusal(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_zip_archive_is_refused_as_a_checkpoint_to_export()
    {
        byte[] zip = [.. "PK\u0003\u0004"u8, .. new byte[200]];
        Assert.Contains("ZIP archive", ReadRefusal(zip));
    }

    [Fact]
    public void A_truncated_model_is_refused_as_truncated()
    {
        var model = OnnxModels.Linear(inFeatures: 64, outFeatures: 64);
        var detail = ReadRefusal(model[..(model.Length * 2 / 3)]);
        Assert.Contains("truncated", detail);
    }

    [Fact]
    public void A_protobuf_without_graph_or_ir_version_is_refused_as_not_a_model()
    {
        var noGraph = new ModelHeader { IrVersion = 8, ProducerName = "x" }.ToByteArray();
        Assert.Contains("has no graph", ReadRefusal(noGraph));

        var noIr = new ModelHeader { Graph = new GraphHeader { Name = "g" } }.ToByteArray();
        Assert.Contains("has no ir_version", ReadRefusal(noIr));

        // A different protobuf message altogether: a TensorProto parses as neither.
        var tensor = new TensorProto { Name = "t", DataType = 1, Dims = { 2 }, FloatData = { 1f, 2f } }.ToByteArray();
        Assert.Contains("not an ONNX model", ReadRefusal(tensor));
    }

    [Fact]
    public void Weights_are_skipped_without_being_held_in_memory()
    {
        // 64 MiB of weights; reading the header must allocate a small fraction of that.
        const int size = 64 * 1024 * 1024;
        var path = Path.GetTempFileName();
        try
        {
            var graph = new GraphHeader { Name = "big" };
            graph.Input.Add(OnnxModels.Tensor("x", ElementTypes.Float, 1, size / 4));
            graph.Output.Add(OnnxModels.Tensor("y", ElementTypes.Float, 1, size / 4));
            graph.Node.Add(OnnxModels.Node("Add", ["x", "W"], ["y"]));
            var header = new TensorHeader { Name = "W", DataType = ElementTypes.Float, Dims = { 1, size / 4 } };
            using (var file = File.Create(path))
                OnnxModelWriter.Write(file, OnnxModels.Model(graph), [new InitializerPayload(header, size, s => s.Write(new byte[size]))]);

            var before = GC.GetAllocatedBytesForCurrentThread();
            var signature = OnnxHeaderReader.Read(path);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.True(signature.IsSuccess, signature.Error?.Detail);
            Assert.Equal(size / 4, signature.Value.ParameterCount);
            Assert.True(allocated < 4 * 1024 * 1024, $"reading the header allocated {allocated:N0} bytes for {size:N0} bytes of weights");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
