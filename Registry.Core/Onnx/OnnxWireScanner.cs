namespace Registry.Core.Onnx;

/// <summary>
/// Walks an ONNX file's protobuf wire format before it is parsed, seeking over weight payloads and
/// counting what a parse would keep in memory. It tells a truncated model from bytes that are not a
/// model at all, and refuses files whose header alone would be unreasonably large (millions of
/// nodes, gigabyte-long names), so that parsing never allocates in proportion to a hostile file.
/// </summary>
public static class OnnxWireScanner
{
    public enum Outcome
    {
        Ok,
        /// <summary>A model whose bytes end before its structure does.</summary>
        Truncated,
        /// <summary>Bytes that do not form an ONNX ModelProto.</summary>
        Malformed,
        /// <summary>A model whose header exceeds <see cref="Limits"/>.</summary>
        TooLarge,
    }

    /// <summary>Bounds on what parsing a header may keep: message count, bytes of names and dims, longest string.</summary>
    public sealed record Limits(long MaxMessages, long MaxKeptBytes, long MaxStringBytes, int MaxDepth)
    {
        public static readonly Limits Default = new(MaxMessages: 2_000_000, MaxKeptBytes: 64L << 20, MaxStringBytes: 16L << 20, MaxDepth: 96);
    }

    public sealed record Result(Outcome Outcome, string? Problem = null);

    private enum Kind { Model, Graph, Node, Attribute, Tensor, Sparse, ValueInfo, Type, TypeTensor, TypeWrapper, TypeMap, Shape, Dim, Opset, Entry, Function }

    private enum Field { Skip, Kept, Varint, Child }

    /// <summary>How each field of each message the header schema keeps is read; anything else is skipped.</summary>
    private static (Field How, Kind Child) Describe(Kind kind, int field) => kind switch
    {
        Kind.Model => field switch
        {
            1 or 5 => (Field.Varint, default),
            2 or 3 or 4 => (Field.Kept, default),
            7 => (Field.Child, Kind.Graph),
            8 => (Field.Child, Kind.Opset),
            14 => (Field.Child, Kind.Entry),
            25 => (Field.Child, Kind.Function),
            _ => (Field.Skip, default),
        },
        Kind.Graph => field switch
        {
            1 => (Field.Child, Kind.Node),
            2 => (Field.Kept, default),
            5 => (Field.Child, Kind.Tensor),
            15 => (Field.Child, Kind.Sparse),
            11 or 12 or 13 => (Field.Child, Kind.ValueInfo),
            _ => (Field.Skip, default),
        },
        Kind.Node => field switch
        {
            1 or 2 or 3 or 4 or 7 => (Field.Kept, default),
            5 => (Field.Child, Kind.Attribute),
            _ => (Field.Skip, default),
        },
        Kind.Attribute => field switch
        {
            1 or 8 => (Field.Kept, default),
            3 or 20 => (Field.Varint, default),
            5 or 10 => (Field.Child, Kind.Tensor),
            6 or 11 => (Field.Child, Kind.Graph),
            22 or 23 => (Field.Child, Kind.Sparse),
            _ => (Field.Skip, default),
        },
        Kind.Tensor => field switch
        {
            1 or 8 => (Field.Kept, default),
            2 or 14 => (Field.Varint, default),
            13 => (Field.Child, Kind.Entry),
            _ => (Field.Skip, default), // the weights: float_data, raw_data…
        },
        Kind.Sparse => field switch
        {
            1 or 2 => (Field.Child, Kind.Tensor),
            3 => (Field.Kept, default),
            _ => (Field.Skip, default),
        },
        Kind.ValueInfo => field switch
        {
            1 => (Field.Kept, default),
            2 => (Field.Child, Kind.Type),
            _ => (Field.Skip, default),
        },
        Kind.Type => field switch
        {
            1 or 8 => (Field.Child, Kind.TypeTensor),
            4 or 9 => (Field.Child, Kind.TypeWrapper),
            5 => (Field.Child, Kind.TypeMap),
            6 => (Field.Kept, default),
            _ => (Field.Skip, default),
        },
        Kind.TypeTensor => field switch
        {
            1 => (Field.Varint, default),
            2 => (Field.Child, Kind.Shape),
            _ => (Field.Skip, default),
        },
        Kind.TypeWrapper => field == 1 ? (Field.Child, Kind.Type) : (Field.Skip, default),
        Kind.TypeMap => field switch
        {
            1 => (Field.Varint, default),
            2 => (Field.Child, Kind.Type),
            _ => (Field.Skip, default),
        },
        Kind.Shape => field == 1 ? (Field.Child, Kind.Dim) : (Field.Skip, default),
        Kind.Dim => field switch
        {
            1 => (Field.Varint, default),
            2 or 3 => (Field.Kept, default),
            _ => (Field.Skip, default),
        },
        Kind.Opset => field switch
        {
            1 => (Field.Kept, default),
            2 => (Field.Varint, default),
            _ => (Field.Skip, default),
        },
        Kind.Entry => field is 1 or 2 ? (Field.Kept, default) : (Field.Skip, default),
        Kind.Function => field switch
        {
            1 or 4 or 5 or 10 => (Field.Kept, default),
            7 => (Field.Child, Kind.Node),
            9 => (Field.Child, Kind.Opset),
            _ => (Field.Skip, default),
        },
        _ => (Field.Skip, default),
    };

    /// <summary>Fields of ModelProto with their wire types, for telling a cut-off model from noise.</summary>
    private static bool IsModelField(int field, int wire) => field switch
    {
        1 or 5 => wire == 0,
        2 or 3 or 4 or 6 or 7 or 8 or 14 or 20 or 25 or 26 => wire == 2,
        _ => false,
    };

    public static Result Scan(Stream stream, Limits? limits = null)
    {
        var scanner = new Scanner(stream, limits ?? Limits.Default);
        return scanner.Run();
    }

    private sealed class Scanner(Stream stream, Limits limits)
    {
        private readonly long _length = stream.Length;
        private long _messages;
        private long _kept;
        private bool _sawIrVersion;
        private bool _onlyModelFields = true;

        public Result Run()
        {
            stream.Position = 0;
            try
            {
                return Message(Kind.Model, _length, depth: 0);
            }
            catch (EndOfStreamException)
            {
                return Cut();
            }
            catch (InvalidDataException)
            {
                return new(Outcome.Malformed);
            }
        }

        private Result Cut() => _sawIrVersion && _onlyModelFields ? new(Outcome.Truncated) : new(Outcome.Malformed);

        private Result Message(Kind kind, long end, int depth)
        {
            if (depth > limits.MaxDepth)
                return new(Outcome.TooLarge, $"its messages nest more than {limits.MaxDepth} deep");
            if (++_messages > limits.MaxMessages)
                return new(Outcome.TooLarge, $"its header holds more than {limits.MaxMessages:N0} nodes, values and attributes");

            while (stream.Position < end)
            {
                var tag = Varint();
                var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
                if (field == 0) return new(Outcome.Malformed);
                if (kind == Kind.Model && !IsModelField(field, wire)) _onlyModelFields = false;
                var (how, child) = Describe(kind, field);
                switch (wire)
                {
                    case 0:
                        var value = Varint();
                        if (kind == Kind.Model && field == 1 && _onlyModelFields) _sawIrVersion = value > 0;
                        if (how is Field.Kept) _kept += 8;
                        break;
                    case 1:
                        Skip(8, end);
                        break;
                    case 5:
                        Skip(4, end);
                        break;
                    case 2:
                        var length = (long)Varint();
                        var childEnd = stream.Position + length;
                        if (length < 0 || childEnd > end)
                            return childEnd > _length && end >= _length ? Cut() : new(Outcome.Malformed);
                        if (how == Field.Child)
                        {
                            var inner = Message(child, childEnd, depth + 1);
                            if (inner.Outcome != Outcome.Ok) return inner;
                            if (stream.Position != childEnd) return new(Outcome.Malformed);
                        }
                        else
                        {
                            if (how == Field.Kept)
                            {
                                if (length > limits.MaxStringBytes)
                                    return new(Outcome.TooLarge, $"one of its names or values is {length:N0} bytes long (the limit is {limits.MaxStringBytes:N0})");
                                _kept += length;
                                if (_kept > limits.MaxKeptBytes)
                                    return new(Outcome.TooLarge, $"its names, shapes and attributes take more than {limits.MaxKeptBytes >> 20} MiB");
                            }
                            stream.Position = childEnd;
                        }
                        break;
                    default:
                        return new(Outcome.Malformed);
                }
            }
            return stream.Position == end ? new(Outcome.Ok) : new(Outcome.Malformed);
        }

        private void Skip(int bytes, long end)
        {
            if (stream.Position + bytes > _length) throw new EndOfStreamException();
            stream.Position += bytes;
            if (stream.Position > end) throw new InvalidDataException();
        }

        private ulong Varint() => ProtoWire.ReadVarint(stream);
    }
}
