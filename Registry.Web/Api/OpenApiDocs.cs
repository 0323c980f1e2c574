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
                                Description = "JSON: {description, tags:{k:v}, metrics:[{key,value,dataset}], lineage:{parents:[{model,version,relation}], datasets:[{name,uri,digest}], source:{commit,runUrl}, params:{}}}",
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
