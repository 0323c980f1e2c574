using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;

namespace Registry.Data.S3;

/// <summary>
/// The SDK's client with one difference on the wire: a copy's <c>x-amz-copy-source</c> keeps its
/// slashes (<c>bucket/staging/x</c>) instead of escaping them (<c>bucket%2Fstaging%2Fx</c>). AWS
/// accepts both; S3-compatibles that split the header on '/' (s3rver) only the documented form. The
/// header is rewritten before signing, so the signature covers what is sent.
/// </summary>
internal sealed class S3CompatibleClient : AmazonS3Client
{
    public S3CompatibleClient(AWSCredentials credentials, AmazonS3Config config) : base(credentials, config) { }

    public S3CompatibleClient(AmazonS3Config config) : base(config) { }

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.AddHandlerBefore<Signer>(new CopySourceSlashes());
    }

    private sealed class CopySourceSlashes : PipelineHandler
    {
        private const string Header = "x-amz-copy-source";

        public override void InvokeSync(IExecutionContext executionContext)
        {
            Rewrite(executionContext);
            base.InvokeSync(executionContext);
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            Rewrite(executionContext);
            return base.InvokeAsync<T>(executionContext);
        }

        // A '/' inside a key is escaped the same way, and means the same thing unescaped; a literal
        // "%2F" in a key was escaped to "%252F" and is left alone.
        private static void Rewrite(IExecutionContext context)
        {
            if (context.RequestContext.OriginalRequest is not (CopyObjectRequest or CopyPartRequest)) return;
            var headers = context.RequestContext.Request.Headers;
            if (headers.TryGetValue(Header, out var value))
                headers[Header] = value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        }
    }
}
