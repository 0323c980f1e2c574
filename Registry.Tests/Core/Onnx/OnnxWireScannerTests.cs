using Google.Protobuf;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Tests.Support;

namespace Registry.Tests.Core.Onnx;

/// <summary>A hostile header must be refused before parsing allocates in proportion to it.</summary>
public class OnnxWireScannerTests
{
    /// <summary>A ModelProto with ir_version 8 and a graph whose body is the given bytes.</summary>
    private static byte[] ModelWithGraphBody(byte[] graphBody)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(8);
        output.WriteTag(7, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(graphBody));
        output.Flush();
        return buffer.ToArray();
    }

    private static (string Detail, long Allocated) Refusal(byte[] bytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = OnnxHeaderReader.Read(new MemoryStream(bytes));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(result.IsSuccess, "expected a refusal");
        return (result.Error!.Detail, allocated);
    }

    [Fact]
    public void Millions_of_empty_nodes_are_refused_without_materialising_them()
    {
        var body = new byte[2 * 2_000_001];
        for (var i = 0; i < body.Length; i += 2) body[i] = 0x0a; // field 1 (node), length 0
        var (detail, allocated) = Refusal(ModelWithGraphBody(body));

        Assert.Contains("too large to register", detail);
        Assert.Contains("more than 2,000,000", detail);
        Assert.True(allocated < 64L << 20, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void A_gigantic_name_is_refused()
    {
        var node = new NodeHeader { OpType = new string('R', 17 << 20) };
        var graph = new GraphHeader { Node = { node } };
        var (detail, _) = Refusal(OnnxModels.Model(graph).ToByteArray());
        Assert.Contains("is 17,825,792 bytes long", detail);
    }

    [Fact]
    public void A_long_doc_string_is_skipped_like_weights()
    {
        var model = OnnxModels.Identity();
        using var buffer = new MemoryStream();
        buffer.Write(model);
        var docString = new CodedOutputStream(buffer);
        docString.WriteTag(6, WireFormat.WireType.LengthDelimited);   // ModelProto.doc_string
        docString.WriteString(new string('d', 32 << 20));
        docString.Flush();
        var bytes = buffer.ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = OnnxHeaderReader.Read(new MemoryStream(bytes));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(result.IsSuccess, result.Error?.Detail);
        Assert.True(allocated < 4 << 20, $"allocated {allocated:N0} bytes for a 32 MiB doc string");
    }

    [Fact]
    public void Deeply_nested_subgraphs_are_refused_as_too_large()
    {
        var graph = new GraphHeader { Name = "leaf" };
        for (var i = 0; i < 40; i++)
        {
            var node = new NodeHeader { OpType = "If", Attribute = { new AttributeHeader { Name = "then_branch", G = graph } } };
            graph = new GraphHeader { Node = { node } };
        }
        var (detail, _) = Refusal(OnnxModels.Model(graph).ToByteArray());
        Assert.Contains("nest more than", detail);
    }

    [Fact]
    public void A_length_that_overruns_its_parent_is_not_a_model()
    {
        // graph → node with a declared length past the graph's end, but inside the file.
        byte[] body = [0x0a, 0x7f, 0x01];
        var bytes = ModelWithGraphBody(body).Concat(new byte[200]).ToArray();
        var (detail, _) = Refusal(bytes);
        Assert.Contains("not an ONNX model", detail);
    }
}
