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
        var start = stream.Position;
        if (stream.Length - start == 0)
            return Refuse("The file is empty (0 bytes). Choose the .onnx file itself.");

        ModelHeader header;
        try
        {
            // Protobuf's default recursion limit (100) is ample: each nested subgraph costs three levels.
            using var input = new CodedInputStream(stream, leaveOpen: true);
            header = Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException ex)
        {
            if (Sniff(stream, start) is { } hint)
                return Refuse($"The file is not an ONNX model: it {hint}.");
            if (LooksLikeTruncatedModel(stream, start))
                return Refuse("The file ends in the middle of the model: it looks truncated (an interrupted download or copy?). Upload the complete file.");
            return Refuse($"The file is not an ONNX model: its bytes do not form an ONNX ModelProto ({ex.Message.TrimEnd('.')}).");
        }

        if (header.IrVersion <= 0 || header.Graph is null)
        {
            if (Sniff(stream, start) is { } hint)
                return Refuse($"The file is not an ONNX model: it {hint}.");
            var missing = header.IrVersion <= 0 && header.Graph is null ? "neither an ir_version nor a graph"
                : header.IrVersion <= 0 ? "no ir_version" : "no graph";
            return Refuse($"The file is a protobuf message but not an ONNX model: it has {missing}. Export the model with onnx.save or torch.onnx.export and upload that file.");
        }

        return header;
    }

    /// <summary>
    /// True when the file starts like an ONNX model (an ir_version, then only ModelProto fields with
    /// their proper wire types) and a field runs past the end: a cut-off model rather than noise.
    /// </summary>
    private static bool LooksLikeTruncatedModel(Stream stream, long start)
    {
        stream.Position = start;
        var sawIrVersion = false;
        while (stream.Position < stream.Length)
        {
            if (ReadVarint(stream) is not { } tag) return sawIrVersion;
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            var expected = field switch
            {
                1 or 5 => 0, // varint
                2 or 3 or 4 or 6 or 7 or 8 or 14 or 20 or 25 => 2, // length-delimited
                _ => -1,
            };
            if (expected != wire) return false;
            if (ReadVarint(stream) is not { } value) return sawIrVersion;
            if (wire == 0)
            {
                if (field == 1) sawIrVersion = value > 0;
                continue;
            }
            if (stream.Position + (long)value > stream.Length) return sawIrVersion;
            stream.Position += (long)value;
        }
        return false;
    }

    private static ulong? ReadVarint(Stream stream)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = stream.ReadByte();
            if (b < 0) return null;
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        return null;
    }

    private static string? Sniff(Stream stream, long start)
    {
        stream.Position = start;
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
        CountOperators(graph, operators);
        foreach (var function in model.Functions)
            foreach (var node in function.Node) CountNode(node, operators);

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
            MetadataProps: model.MetadataProps
                .GroupBy(p => p.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal));
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
        TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => new Dim(d.DimValue, null),
        TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => new Dim(null, d.DimParam),
        _ => Dim.Unknown,
    };

    private static void CountOperators(GraphHeader graph, Dictionary<(string, string), int> counts)
    {
        foreach (var node in graph.Node) CountNode(node, counts);
    }

    private static void CountNode(NodeHeader node, Dictionary<(string, string), int> counts)
    {
        var key = (NormalizeDomain(node.Domain), node.OpType);
        counts[key] = counts.GetValueOrDefault(key) + 1;
        foreach (var attribute in node.Attribute)
        {
            if (attribute.G is not null) CountOperators(attribute.G, counts);
            foreach (var g in attribute.Graphs) CountOperators(g, counts);
        }
    }

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

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static RegistryError Refuse(string detail) => RegistryError.Invalid(NotAModelTitle, detail);
}
