using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Registry.Core;
using Registry.Core.Catalog;
using Registry.Core.Storage;

namespace Registry.Web.Api;

/// <summary>The parts of an upload request, with the model file already staged (hashed, on disk).</summary>
internal sealed record UploadForm(StagedArtifact File, VersionMetadata? Metadata, IReadOnlyList<StagedReference> References) : IAsyncDisposable
{
    /// <summary>Deletes whatever staged files were not committed.</summary>
    public async ValueTask DisposeAsync()
    {
        await File.DisposeAsync();
        foreach (var reference in References) await reference.File.DisposeAsync();
    }
}

/// <summary>
/// Reads <c>multipart/form-data</c> uploads section by section, straight from the request body:
/// the <c>file</c> part goes to the artifact store's staging area as it arrives (no buffering in
/// memory, no ASP.NET form temp files), and the small <c>metadata</c> part is checked as soon as
/// it is read, so a bad request is refused before a large file is received when metadata comes first.
/// </summary>
internal static class MultipartUpload
{
    public const string FilePart = "file";
    public const string MetadataPart = "metadata";
    public const string ReferenceInputPart = "reference_input";
    public const string ReferenceOutputPart = "reference_output";

    /// <summary>Room for multipart headers and boundaries around the parts.</summary>
    private const long FramingAllowance = 1024 * 1024;

    public static async Task<Result<UploadForm>> ReadAsync(HttpRequest request, IArtifactStore store, CatalogCommands commands,
        UploadOptions limits, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ||
            !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return RegistryError.BadRequest("Expected multipart/form-data",
                $"Send the model as multipart/form-data with a '{FilePart}' part (for example curl -F file=@model.onnx); got Content-Type '{request.ContentType ?? "none"}'.");
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
            return RegistryError.BadRequest("Expected multipart/form-data", "The Content-Type header has no multipart boundary.");

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = limits.MaxFileBytes + limits.MaxMetadataBytes
                + (long)limits.MaxReferenceBytes * limits.MaxReferenceParts + FramingAllowance;

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        StagedArtifact? file = null;
        VersionMetadata? metadata = null;
        var references = new List<StagedReference>();
        var handedOver = false;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                var name = PartName(section);
                switch (name)
                {
                    case FilePart when file is not null:
                        return RegistryError.BadRequest("Duplicate part", "An upload carries one model: send a single 'file' part.");
                    case FilePart:
                        var staged = await store.StageAsync(section.Body, limits.MaxFileBytes, ct);
                        if (!staged.IsSuccess) return staged.Error!;
                        file = staged.Value;
                        break;
                    case MetadataPart when metadata is not null:
                        return RegistryError.BadRequest("Duplicate part", "Send a single 'metadata' part.");
                    case MetadataPart:
                        var json = await RequestJson.ReadLimitedAsync(section.Body, limits.MaxMetadataBytes, ct);
                        if (json is null)
                            return new RegistryError(ErrorKind.TooLarge, "Metadata too large",
                                $"The metadata part is larger than {ByteSize.Format(limits.MaxMetadataBytes)}.");
                        var parsed = InputErrors.ParseJson<VersionMetadata>(json, "metadata");
                        if (!parsed.IsSuccess) return parsed.Error!;
                        if (commands.CheckMetadata(parsed.Value) is { } invalid) return invalid;
                        metadata = parsed.Value;
                        break;
                    case ReferenceInputPart or ReferenceOutputPart:
                        if (references.Count >= limits.MaxReferenceParts)
                            return new RegistryError(ErrorKind.TooLarge, "Too many reference parts",
                                $"An upload carries at most {limits.MaxReferenceParts} reference_input and reference_output parts.");
                        var reference = await store.StageAsync(section.Body, limits.MaxReferenceBytes, ct);
                        if (!reference.IsSuccess)
                            return new RegistryError(ErrorKind.TooLarge, "Reference data too large",
                                $"Each {name} part (a serialized TensorProto) may be at most {ByteSize.Format(limits.MaxReferenceBytes)}; use smaller reference batches.");
                        references.Add(new StagedReference(name == ReferenceInputPart ? ReferenceKind.Input : ReferenceKind.Output, reference.Value));
                        break;
                    default:
                        return RegistryError.BadRequest("Unexpected part",
                            $"Unexpected part '{name}'. An upload has a '{FilePart}' part (the .onnx file), optionally a '{MetadataPart}' part (JSON) and repeatable '{ReferenceInputPart}' / '{ReferenceOutputPart}' parts (serialized TensorProto).");
                }
            }

            if (file is null)
                return RegistryError.BadRequest("Missing file",
                    $"The upload has no '{FilePart}' part. Attach the .onnx file as a part named '{FilePart}' (curl -F file=@model.onnx).");
            if (metadata?.Sha256 is { } declared && !string.Equals(declared, file.Sha256, StringComparison.OrdinalIgnoreCase))
                return RegistryError.BadRequest("Digest mismatch",
                    $"The file that arrived has SHA-256 {file.Sha256}, not the {declared.ToLowerInvariant()} declared in metadata.sha256; nothing was kept. Check that the right file was sent and that it was not changed on the way, then upload it again.");
            handedOver = true;
            return new UploadForm(file, metadata, references);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new RegistryError(ErrorKind.TooLarge, "Request too large",
                $"The request is larger than the limit of {ByteSize.Format(limits.MaxFileBytes)} for the file plus {ByteSize.Format(limits.MaxMetadataBytes)} for metadata and reference parts.");
        }
        catch (BadHttpRequestException ex)
        {
            return RegistryError.BadRequest("Malformed upload",
                $"The request body could not be read to its end ({ex.Message}). It was cut off or is not valid multipart/form-data.");
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // Reading the request failed: malformed multipart framing, or the client went away.
            return RegistryError.BadRequest("Malformed upload",
                "The multipart body could not be read to its end. It was cut off or is not valid multipart/form-data.");
        }
        finally
        {
            // Whatever went wrong, staged files that are not handed to the caller are deleted now.
            if (!handedOver)
            {
                if (file is not null) await file.DisposeAsync();
                foreach (var reference in references) await reference.File.DisposeAsync();
            }
        }
    }

    private static string? PartName(MultipartSection section) =>
        ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
            ? HeaderUtilities.RemoveQuotes(disposition.Name).Value
            : null;
}
