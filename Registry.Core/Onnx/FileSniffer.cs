using System.Text;

namespace Registry.Core.Onnx;

/// <summary>
/// Recognises common files that people upload by mistake instead of an ONNX model, so that the
/// refusal can say what the file is rather than only what it is not.
/// </summary>
public static class FileSniffer
{
    /// <summary>A phrase completing "the file …", or null when the bytes look like nothing in particular.</summary>
    public static string? Describe(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty) return "is empty";
        if (head.StartsWith("PK\u0003\u0004"u8))
            return "is a ZIP archive (a PyTorch .pt/.pth checkpoint or a Keras file?); export it to ONNX first";
        if (head.StartsWith("\u0089HDF"u8))
            return "is an HDF5 file (a Keras .h5 model?); convert it to ONNX first";
        if (head.StartsWith("GGUF"u8))
            return "is a GGUF file (llama.cpp weights), not ONNX";
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
            return "is a Python pickle (a scikit-learn or PyTorch file?); export it to ONNX first";
        if (head.StartsWith("\u001f\u008b"u8))
            return "is gzip-compressed; decompress it and upload the .onnx file";
        if (LooksLikeSafetensors(head))
            return "is a safetensors weights file, not an ONNX graph";

        var text = LooksLikeText(head);
        if (text is null) return null;
        var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (trimmed.StartsWith('<'))
        {
            return trimmed.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("<html", StringComparison.OrdinalIgnoreCase)
                ? "is an HTML page (an error or login page saved instead of the model?)"
                : "is an XML or HTML text file";
        }
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
            return "is a JSON text file";
        return "is a text file";
    }

    private static bool LooksLikeSafetensors(ReadOnlySpan<byte> head) =>
        head.Length > 10 && head[8] == (byte)'{' && head[9] == (byte)'"' && BitConverter.ToUInt64(head[..8]) < 100_000_000;

    private static string? LooksLikeText(ReadOnlySpan<byte> head)
    {
        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(head.Length > 256 ? head[..256] : head);
        }
        catch (DecoderFallbackException)
        {
            // A multi-byte character cut at the end of the sample is still text.
            if (head.Length <= 8) return null;
            try { decoded = new UTF8Encoding(false, true).GetString(head[..^4]); }
            catch (DecoderFallbackException) { return null; }
        }
        foreach (var c in decoded)
            if (char.IsControl(c) && c is not ('\r' or '\n' or '\t' or '\f')) return null;
        return decoded;
    }
}
