using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Registry.Web.Api;

/// <summary>OpenAPI descriptions for what the endpoints read by hand (streamed multipart).</summary>
internal static class OpenApiDocs
{
    public static Task DescribeUploadForm(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "The model file and optional metadata.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { MultipartUpload.FilePart },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            [MultipartUpload.FilePart] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Format = "binary",
                                Description = "The .onnx model file.",
                            },
                            [MultipartUpload.MetadataPart] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Description = "JSON: {description, tags:{k:v}, metrics:[{key,value,dataset}], lineage:{parents:[{model,version,relation}], datasets:[{name,uri,digest}], source:{commit,runUrl}, params:{}}, smokeTestShapes:{input:[dims]}}",
                            },
                            [MultipartUpload.ReferenceInputPart] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Array,
                                Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                                Description = "Repeatable: a serialized ONNX TensorProto per graph input (matched by tensor name, else by order), used by the smoke and golden checks.",
                            },
                            [MultipartUpload.ReferenceOutputPart] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Array,
                                Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                                Description = "Repeatable: a serialized ONNX TensorProto of an expected output, compared with rtol 1e-3 and atol 1e-5 by default.",
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
