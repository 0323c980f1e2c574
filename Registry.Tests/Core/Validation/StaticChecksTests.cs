using Google.Protobuf;
using Microsoft.Extensions.Configuration;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;
using Registry.Core.Validation;
using Registry.Tests.Support;

namespace Registry.Tests.Core.Validation;

public class StaticChecksTests
{
    private static readonly RuntimeSupport Support = new("onnxruntime 9.9", 13, new Dictionary<string, long> { ["ai.onnx"] = 26, ["ai.onnx.ml"] = 5 });

    private static readonly SandboxLimits Limits = new ValidationOptions().ToLimits();

    private static CheckResult Format(byte[] model)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, model);
            return StaticChecks.Format(path, Support).Result;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static CheckResult Security(byte[] model)
    {
        var header = OnnxHeaderReader.ReadHeader(new MemoryStream(model));
        Assert.True(header.IsSuccess, header.Error?.Detail);
        return StaticChecks.Security(header.Value, Limits);
    }

    [Fact]
    public void A_configured_list_of_domains_replaces_the_default_rather_than_adding_to_it()
    {
        var configured = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Registry:Validation:AllowedDomains:0"] = "ai.onnx" })
            .Build().GetSection(ValidationOptions.Section).Get<ValidationOptions>()!;

        Assert.Equal(["ai.onnx"], configured.ToLimits().AllowedDomains);
        Assert.Equal(["ai.onnx", "ai.onnx.ml", "com.microsoft"], new ValidationOptions().ToLimits().AllowedDomains);
        var refused = StaticChecks.Security(OnnxHeaderReader.ReadHeader(new MemoryStream(AdversarialModels.CustomDomainOperator())).Value, configured.ToLimits());
        Assert.Contains("(allowed: ai.onnx)", refused.Message);
    }

    [Fact]
    public void A_supported_model_passes_format_and_says_what_the_runtime_supports()
    {
        var result = Format(OnnxModels.Identity());
        Assert.Equal(CheckStatus.Passed, result.Status);
        Assert.Equal("IR version 8 and opsets ai.onnx 17 are supported by onnxruntime 9.9 (IR ≤ 13; ai.onnx ≤ 26, ai.onnx.ml ≤ 5).", result.Message);
    }

    [Fact]
    public void Opset_99_fails_format_naming_the_limit()
    {
        var result = Format(AdversarialModels.Opset(99));
        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.StartsWith("Opset ai.onnx 99 is newer than onnxruntime 9.9 supports (≤ 26)", result.Message);
    }

    [Fact]
    public void A_too_new_IR_version_fails_format()
    {
        var model = OnnxModels.Model(new GraphHeader { Name = "g" }, irVersion: 14).ToByteArray();
        Assert.StartsWith("IR version 14 is newer than onnxruntime 9.9 supports (≤ 13)", Format(model).Message);
    }

    [Fact]
    public void Truncated_and_random_files_fail_format_with_the_parsers_reason()
    {
        var model = OnnxModels.Linear(64, 64);
        Assert.Contains("truncated", Format(model[..(model.Length / 2)]).Message);
        var noise = new byte[5000];
        new Random(5).NextBytes(noise);
        var result = Format(noise);
        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.Contains("not an ONNX model", result.Message);
    }

    [Theory]
    [InlineData("../../etc/passwd", "reads external data from '../../etc/passwd', outside the model's folder")]
    [InlineData("/etc/passwd", "reads external data from the absolute path '/etc/passwd'")]
    [InlineData("C:\\secrets\\weights.bin", "reads external data from the absolute path")]
    [InlineData("*/_ORT_MEM_ADDR_/*", "points at process memory (_ORT_MEM_ADDR_), which is never allowed")]
    [InlineData("weights.bin", "keeps its data in the external file 'weights.bin', but an upload is a single file")]
    public void External_data_fails_security_saying_why(string location, string reason)
    {
        var result = Security(AdversarialModels.ExternalData(location));
        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.Contains(reason, result.Message);
    }

    [Fact]
    public void External_data_hidden_in_a_subgraph_constant_is_found()
    {
        var constant = OnnxModels.Node("Constant", [], ["c"]);
        var tensor = new TensorHeader { Name = "c", DataType = ElementTypes.Float, DataLocation = 1 };
        tensor.ExternalData.Add(new StringStringEntry { Key = "location", Value = "../x.bin" });
        constant.Attribute.Add(new AttributeHeader { Name = "value", T = tensor });
        var branch = new GraphHeader { Node = { constant } };
        var @if = OnnxModels.Node("If", ["cond"], ["y"]);
        @if.Attribute.Add(new AttributeHeader { Name = "then_branch", G = branch });
        @if.Attribute.Add(new AttributeHeader { Name = "else_branch", G = branch });
        var graph = new GraphHeader { Node = { @if } };
        graph.Input.Add(OnnxModels.Tensor("cond", ElementTypes.Bool));

        var result = Security(OnnxModels.Model(graph).ToByteArray());

        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.Contains("outside the model's folder", result.Message);
    }

    [Fact]
    public void External_data_in_a_subgraph_of_a_local_function_is_found()
    {
        var weights = new TensorHeader { Name = "w", DataType = ElementTypes.Float, DataLocation = 1 };
        weights.ExternalData.Add(new StringStringEntry { Key = "location", Value = "/data/registry.db" });
        var branch = new GraphHeader { Node = { OnnxModels.Node("Identity", ["w"], ["b"]) }, Initializer = { weights } };
        var @if = OnnxModels.Node("If", ["c"], ["b"]);
        @if.Attribute.Add(new AttributeHeader { Name = "then_branch", G = branch });
        @if.Attribute.Add(new AttributeHeader { Name = "else_branch", G = branch });
        var function = new FunctionHeader { Name = "Pick", Domain = "my.functions", Input = { "c" }, Output = { "b" }, Node = { @if } };
        var model = OnnxModels.Model(new GraphHeader { Node = { OnnxModels.Node("Pick", ["cond"], ["y"], domain: "my.functions") } });
        model.Functions.Add(function);

        var result = Security(model.ToByteArray());

        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.Contains("absolute path '/data/registry.db'", result.Message);
    }

    [Fact]
    public void An_operator_from_a_custom_domain_fails_security()
    {
        var result = Security(AdversarialModels.CustomDomainOperator());
        Assert.Equal(CheckStatus.Failed, result.Status);
        Assert.StartsWith("Operator Frobnicate comes from domain 'com.example', which is not allowed (allowed: ai.onnx, ai.onnx.ml, com.microsoft)", result.Message);
    }

    [Fact]
    public void A_declared_but_unused_custom_opset_is_no_reason_to_refuse()
    {
        Assert.Equal(CheckStatus.Passed, Security(AdversarialModels.UnusedCustomImport()).Status);
    }

    [Fact]
    public void A_call_to_a_local_function_is_allowed_and_its_body_is_checked()
    {
        var function = new FunctionHeader { Name = "Twice", Domain = "my.functions", Input = { "a" }, Output = { "b" } };
        function.Node.Add(OnnxModels.Node("Add", ["a", "a"], ["b"]));
        var model = OnnxModels.Model(new GraphHeader { Node = { OnnxModels.Node("Twice", ["x"], ["y"], domain: "my.functions") } });
        model.Functions.Add(function);
        Assert.Equal(CheckStatus.Passed, Security(model.ToByteArray()).Status);

        function.Node.Add(OnnxModels.Node("Evil", ["b"], ["c"], domain: "com.example"));
        Assert.Contains("operator Evil comes from domain 'com.example'", Security(model.ToByteArray()).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Graph_size_limits_are_enforced()
    {
        var limits = Limits with { Graph = Limits.Graph with { MaxNodes = 2 } };
        var header = OnnxHeaderReader.ReadHeader(new MemoryStream(OnnxModels.Linear())).Value;
        Assert.Equal(CheckStatus.Passed, StaticChecks.Security(header, limits).Status);
        var three = OnnxModels.Model(new GraphHeader { Node = { OnnxModels.Node("Relu", ["x"], ["a"]), OnnxModels.Node("Relu", ["a"], ["b"]), OnnxModels.Node("Relu", ["b"], ["y"]) } });
        var result = StaticChecks.Security(three, limits);
        Assert.Contains("the model has 3 nodes, more than the limit of 2", result.Message, StringComparison.OrdinalIgnoreCase);
    }
}
