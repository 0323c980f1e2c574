namespace Registry.Core;

/// <summary>Limits on uploads (configuration section <c>Registry:Upload</c>).</summary>
public sealed class UploadOptions
{
    public const string Section = "Registry:Upload";

    /// <summary>The largest model file accepted, in bytes. Larger uploads are refused with 413. Default 2 GiB.</summary>
    public long MaxFileBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>The largest <c>metadata</c> JSON part accepted, in bytes. Default 1 MiB.</summary>
    public int MaxMetadataBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest <c>reference_input</c> or <c>reference_output</c> part (a TensorProto), in bytes. Default 64 MiB.</summary>
    public int MaxReferenceBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How many reference parts one upload may carry. Default 64.</summary>
    public int MaxReferenceParts { get; set; } = 64;
}
