using Google.Protobuf;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Validation;

namespace Registry.Tests.Core.Validation;

public class ReferenceDataTests
{
    private static readonly IReadOnlyList<ValueSpec> Inputs =
    [
        new("image", "tensor(float)", "float", [new Dim(null, "batch"), new Dim(3, null)]),
        new("mask", "tensor(bool)", "bool", [new Dim(3, null)]),
    ];

    private static TensorData Tensor(string name, int type, long[] dims, int count)
    {
        var proto = new TensorProto { Name = name, DataType = type };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(new byte[ElementTypes.ByteLength(type, count)]);
        return TensorData.Parse(proto.ToByteArray(), "t").Value;
    }

    [Fact]
    public void Typed_fields_are_decoded_to_the_packed_layout()
    {
        var floats = new TensorProto { Name = "f", DataType = ElementTypes.Float, Dims = { 2 }, FloatData = { 1.5f, -2f } };
        var parsed = TensorData.Parse(floats.ToByteArray(), "f").Value;
        Assert.Equal([1.5, -2.0], [parsed.GetDouble(0), parsed.GetDouble(1)]);

        var halves = new TensorProto { Name = "h", DataType = ElementTypes.Float16, Dims = { 1 }, Int32Data = { BitConverter.HalfToUInt16Bits((Half)0.5) } };
        Assert.Equal(0.5, TensorData.Parse(halves.ToByteArray(), "h").Value.GetDouble(0));

        var bytes = new TensorProto { Name = "b", DataType = ElementTypes.Int8, Dims = { 3 }, Int32Data = { -1, 0, 7 } };
        var int8 = TensorData.Parse(bytes.ToByteArray(), "b").Value;
        Assert.Equal([-1.0, 0, 7], Enumerable.Range(0, 3).Select(i => int8.GetDouble(i)));
        Assert.Equal(3, int8.Bytes.Length);

        var strings = new TensorProto { Name = "s", DataType = ElementTypes.String, Dims = { 2 }, StringData = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("bé") } };
        Assert.Equal(["a", "bé"], TensorData.Parse(strings.ToByteArray(), "s").Value.Strings!);
    }

    [Theory]
    [InlineData("raw", "is float of shape [2, 2], which needs 16 bytes of raw_data, but has 12")]
    [InlineData("typed", "is float of shape [2, 2] (4 elements) but holds 3 values")]
    [InlineData("no type", "has no data type: it is not a TensorProto (sequence, map and optional values are not supported as reference data)")]
    [InlineData("external", "keeps its values in an external file; reference data must hold its values itself")]
    public void Inconsistent_tensors_are_refused(string defect, string message)
    {
        var t = new TensorProto { Name = "t", DataType = ElementTypes.Float, Dims = { 2, 2 } };
        switch (defect)
        {
            case "raw": t.RawData = ByteString.CopyFrom(new byte[12]); break;
            case "typed": t.FloatData.AddRange([1f, 2f, 3f]); break;
            case "no type": t.DataType = 0; break;
            case "external": t.DataLocation = 1; break;
        }
        var result = TensorData.Parse(t.ToByteArray(), "reference_input[0]");
        Assert.False(result.IsSuccess);
        Assert.Equal($"reference_input[0] {message}.", result.Error!.Detail);
    }

    /// <summary>The upload describes reference files from their wire format; it must agree with a full parse.</summary>
    [Fact]
    public void The_wire_description_agrees_with_a_full_parse_on_every_conformance_file()
    {
        var files = Directory.EnumerateFiles(Support.TestData.OnnxBackend, "*.pb", SearchOption.AllDirectories).ToList();
        Assert.True(files.Count > 2500);
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            var described = TensorDescription.Read(stream, "f");
            var parsed = TensorData.Parse(File.ReadAllBytes(file), "f");
            Assert.True(described.IsSuccess == parsed.IsSuccess, $"{file}: {described.Error?.Detail} / {parsed.Error?.Detail}");
            if (!parsed.IsSuccess) continue; // both refuse (sequences, optionals); the wording may differ
            Assert.Equal((parsed.Value.Name, parsed.Value.DataType), (described.Value.Name, described.Value.DataType));
            Assert.Equal(parsed.Value.Dims, described.Value.Dims);
        }
    }

    [Fact]
    public void Describing_a_large_reference_tensor_does_not_read_its_values()
    {
        var t = new TensorProto { Name = "big", DataType = ElementTypes.Float, Dims = { 4, 1024, 1024 }, RawData = ByteString.CopyFrom(new byte[16 << 20]) };
        var bytes = t.ToByteArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var described = TensorDescription.Read(new MemoryStream(bytes), "reference_input[0]");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Equal([4, 1024, 1024], described.Value.Dims);
    }

    [Fact]
    public void A_tensor_claiming_billions_of_elements_is_refused_before_anything_is_allocated()
    {
        var t = new TensorProto { Name = "t", DataType = ElementTypes.Float, Dims = { 1_000_000, 1_000_000 } };
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = TensorData.Parse(t.ToByteArray(), "reference_input[0]");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.False(result.IsSuccess);
        Assert.Contains("claims shape [1000000, 1000000], more than", result.Error!.Detail);
    }

    [Fact]
    public void References_match_by_name_else_by_position()
    {
        var byName = ReferenceMatching.Match(Inputs, [Tensor("mask", ElementTypes.Bool, [3], 3), Tensor("image", ElementTypes.Float, [2, 3], 6)], "reference_input");
        Assert.Equal(["mask", "image"], byName.Value);

        var byPosition = ReferenceMatching.Match(Inputs, [Tensor("", ElementTypes.Float, [1, 3], 3), Tensor("", ElementTypes.Bool, [3], 3)], "reference_input");
        Assert.Equal(["image", "mask"], byPosition.Value);
    }

    [Theory]
    [InlineData("type", "reference_input[0] does not fit input 'image': it is double, the model declares float.")]
    [InlineData("rank", "reference_input[0] does not fit input 'image': it has shape [6], rank 1; the model declares [batch, 3].")]
    [InlineData("dim", "reference_input[0] does not fit input 'image': dimension 1 is 4; the model fixes it at 3 ([batch, 3]).")]
    [InlineData("extra", "reference_input[2] is named 'bias', which is no graph input (the graph's are 'image', 'mask').")]
    [InlineData("twice", "reference_input[1] matches 'image', which reference_input[0] already provides.")]
    public void A_reference_that_does_not_fit_is_refused_naming_the_part(string defect, string message)
    {
        IReadOnlyList<TensorData> refs = defect switch
        {
            "type" => [Tensor("image", ElementTypes.Double, [1, 3], 3)],
            "rank" => [Tensor("image", ElementTypes.Float, [6], 6)],
            "dim" => [Tensor("image", ElementTypes.Float, [1, 4], 4)],
            "extra" => [Tensor("image", ElementTypes.Float, [1, 3], 3), Tensor("mask", ElementTypes.Bool, [3], 3), Tensor("bias", ElementTypes.Float, [3], 3)],
            "twice" => [Tensor("image", ElementTypes.Float, [1, 3], 3), Tensor("image", ElementTypes.Float, [1, 3], 3)],
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };
        var result = ReferenceMatching.Match(Inputs, refs, "reference_input");
        Assert.False(result.IsSuccess);
        Assert.Equal(message, result.Error!.Detail);
    }

    [Fact]
    public void Reference_inputs_must_cover_every_graph_input()
    {
        var error = ReferenceMatching.CheckInputsComplete(Inputs, ["image"], 0);
        Assert.Equal("Reference inputs cover 'image' but not 'mask'; send one reference_input per graph input.", error!.Detail);
        Assert.Contains("without reference inputs", ReferenceMatching.CheckInputsComplete(Inputs, [], 1)!.Detail);
        Assert.Null(ReferenceMatching.CheckInputsComplete(Inputs, [], 0));
        Assert.Null(ReferenceMatching.CheckInputsComplete([], [], 1)); // a graph without inputs (a constant) has outputs only
    }

    [Fact]
    public void Smoke_test_shapes_must_agree_with_the_signature()
    {
        Assert.Null(ReferenceMatching.CheckSmokeShapes(Inputs, new Dictionary<string, long[]> { ["image"] = [8, 3] }, 1000));
        Assert.Contains("fixed at 3 by the model", ReferenceMatching.CheckSmokeShapes(Inputs, new Dictionary<string, long[]> { ["image"] = [8, 4] }, 1000)!.Detail);
        Assert.Contains("has rank 2", ReferenceMatching.CheckSmokeShapes(Inputs, new Dictionary<string, long[]> { ["image"] = [8] }, 1000)!.Detail);
        Assert.Contains("is not a graph input", ReferenceMatching.CheckSmokeShapes(Inputs, new Dictionary<string, long[]> { ["label"] = [1] }, 1000)!.Detail);
        Assert.Contains("more than the smoke-test limit of 1,000", ReferenceMatching.CheckSmokeShapes(Inputs, new Dictionary<string, long[]> { ["image"] = [1000, 3] }, 1000)!.Detail);
    }
}
