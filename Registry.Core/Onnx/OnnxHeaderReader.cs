using Google.Protobuf;
using Registry.Core.Onnx.Proto;

namespace Registry.Core.Onnx;

/// <summary>
/// Reads an ONNX model's header (graph structure, types, opsets) from a stream and turns it into a
/// <see cref="ModelSignature"/>. Weight payloads are not in the header schema and are skipped as
/// unknown fields while reading, so memory does not grow with the size of the model.
/// </summary>
public static class OnnxHeaderReader
{
    private static readonly MessageParser<ModelHeader> Parser = ModelHeader.Parser.WithDiscardUnknownFields(true);

    public const string NotAModelTitle = "Not an ONNX model";

    /// <summary>Parses the header, or explains why the stream is not an ONNX model. The stream must be seekable.</summary>
    public static Result<ModelHeader> ReadHeader(Stream stream)
    {
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable.", nameof(stream));
        if (stream.Length == 0)
            return Refuse("The file is empty (0 bytes). Choose the .onnx file itself.");

        // The scan bounds what the parse below may allocate, and tells a cut-off model from noise.
        var scan = OnnxWireScanner.Scan(stream);
        switch (scan.Outcome)
        {
            case OnnxWireScanner.Outcome.Truncated:
                return Refuse("The file ends in the middle of the model: it looks truncated (an interrupted download or copy?). Upload the complete file.");
            case OnnxWireScanner.Outcome.TooLarge:
                return Refuse($"The model's structure is too large to register: {scan.Problem}. Weights may be of any size; this limit is on the graph description.");
            case OnnxWireScanner.Outcome.Malformed:
                return Refuse(Sniff(stream) is { } what
                    ? $"The file is not an ONNX model: it {what}."
                    : "The file is not an ONNX model: its bytes do not form an ONNX ModelProto. Export the model with torch.onnx.export or onnx.save and upload that file.");
        }

        ModelHeader header;
        try
        {
            stream.Position = 0;
            // Protobuf's default recursion limit (100) is ample: each nested subgraph costs three levels.
            using var input = new CodedInputStream(stream, leaveOpen: true);
            header = Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Refuse($"The file is not an ONNX model: its bytes do not form an ONNX ModelProto ({ex.Message.TrimEnd('.')}).");
        }

        if (header.IrVersion <= 0 || header.Graph is null)
        {
            if (Sniff(stream) is { } hint)
                return Refuse($"The file is not an ONNX model: it {hint}.");
            var missing = header.IrVersion <= 0 && header.Graph is null ? "neither an ir_version nor a graph"
                : header.IrVersion <= 0 ? "no ir_version" : "no graph";
            return Refuse($"The file is a protobuf message but not an ONNX model: it has {missing}. Export the model with onnx.save or torch.onnx.export and upload that file.");
        }

        return header;
    }

    private static string? Sniff(Stream stream)
    {
        stream.Position = 0;
        var head = new byte[512];
        var n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return FileSniffer.Describe(head.AsSpan(0, n));
    }

    /// <summary>Parses the header and summarises it as a signature.</summary>
    public static Result<ModelSignature> Read(Stream stream)
    {
        var header = ReadHeader(stream);
        return header.IsSuccess ? SignatureOf(header.Value) : header.Error!;
    }

    public static Result<ModelSignature> Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(file);
    }

    public static ModelSignature SignatureOf(ModelHeader model)
    {
        var graph = model.Graph;
        var initializerNames = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        foreach (var sparse in graph.SparseInitializer)
            if (sparse.Values?.Name is { Length: > 0 } name) initializerNames.Add(name);

        var operators = new Dictionary<(string Domain, string Op), int>();
        foreach (var (node, _) in OnnxWalker.Nodes(model))
        {
            var key = (NormalizeDomain(node.Domain), node.OpType);
            operators[key] = operators.GetValueOrDefault(key) + 1;
        }

        long parameters = 0;
        foreach (var tensor in graph.Initializer) parameters = SaturatingAdd(parameters, ElementCount(tensor.Dims));
        foreach (var sparse in graph.SparseInitializer)
            parameters = SaturatingAdd(parameters, sparse.Values is null ? 0 : ElementCount(sparse.Values.Dims));

        return new ModelSignature(
            IrVersion: model.IrVersion,
            Opsets: model.OpsetImport.Select(o => new OpsetImport(NormalizeDomain(o.Domain), o.Version)).ToList(),
            ProducerName: NullIfEmpty(model.ProducerName),
            ProducerVersion: NullIfEmpty(model.ProducerVersion),
            Domain: NullIfEmpty(model.Domain),
            ModelVersion: model.ModelVersion,
            GraphName: NullIfEmpty(graph.Name),
            Inputs: graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(ToSpec).ToList(),
            Outputs: graph.Output.Select(ToSpec).ToList(),
            Operators: operators
                .OrderBy(kv => kv.Key.Domain, StringComparer.Ordinal).ThenBy(kv => kv.Key.Op, StringComparer.Ordinal)
                .Select(kv => new OperatorCount(kv.Key.Domain, kv.Key.Op, kv.Value)).ToList(),
            ParameterCount: parameters,
            InitializerCount: graph.Initializer.Count + graph.SparseInitializer.Count,
            // Producers sometimes store large blobs here; the signature keeps a readable summary.
            MetadataProps: model.MetadataProps
                .GroupBy(p => p.Key, StringComparer.Ordinal)
                .Take(MaxMetadataProps)
                .ToDictionary(g => Clip(g.Key), g => Clip(g.Last().Value), StringComparer.Ordinal));
    }

    /// <summary>The default domain is written "" or "ai.onnx"; both mean the same operator set.</summary>
    public static string NormalizeDomain(string? domain) => string.IsNullOrEmpty(domain) ? "ai.onnx" : domain;

    /// <summary>ONNX's textual notation for a type: <c>tensor(float)</c>, <c>seq(tensor(int64))</c>, <c>map(string,tensor(float))</c>.</summary>
    public static string TypeText(TypeProto? type) => type?.ValueCase switch
    {
        TypeProto.ValueOneofCase.TensorType => $"tensor({ElementTypes.Name(type.TensorType.ElemType)})",
        TypeProto.ValueOneofCase.SparseTensorType => $"sparse_tensor({ElementTypes.Name(type.SparseTensorType.ElemType)})",
        TypeProto.ValueOneofCase.SequenceType => $"seq({TypeText(type.SequenceType.ElemType)})",
        TypeProto.ValueOneofCase.OptionalType => $"optional({TypeText(type.OptionalType.ElemType)})",
        TypeProto.ValueOneofCase.MapType => $"map({ElementTypes.Name(type.MapType.KeyType)},{TypeText(type.MapType.ValueType)})",
        _ => "unknown",
    };

    private static ValueSpec ToSpec(ValueInfo info)
    {
        var type = info.Type;
        var (elem, shape) = type?.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => (type.TensorType.ElemType, type.TensorType.Shape),
            TypeProto.ValueOneofCase.SparseTensorType => (type.SparseTensorType.ElemType, type.SparseTensorType.Shape),
            _ => (-1, null),
        };
        return new ValueSpec(
            info.Name,
            TypeText(type),
            elem >= 0 ? ElementTypes.Name(elem) : null,
            shape?.Dim.Select(ToDim).ToList());
    }

    private static Dim ToDim(TensorShapeProto.Types.Dimension d) => d.ValueCase switch
    {
        // ONNX Runtime reads a negative size as "free", like an unnamed symbolic dimension.
        TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 => new Dim(d.DimValue, null),
        TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => new Dim(null, d.DimParam),
        _ => Dim.Unknown,
    };

    /// <summary>Number of elements of a tensor with these dims; a scalar (no dims) has one.</summary>
    public static long ElementCount(IEnumerable<long> dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d <= 0) return 0;
            count = count > long.MaxValue / d ? long.MaxValue : count * d;
        }
        return count;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private const int MaxMetadataProps = 50;
    private const int MaxMetadataLength = 1000;

    private static string Clip(string s) => s.Length <= MaxMetadataLength ? s : s[..MaxMetadataLength] + "…";

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static RegistryError Refuse(string detail) => RegistryError.Invalid(NotAModelTitle, detail);
}
