using System.Globalization;
using Registry.Core.Onnx;
using Registry.Core.Onnx.Proto;

// Benchmark helpers, driven by the scripts beside this project.
//   model <path> <size-in-MiB> [tag]   writes a valid ONNX model of about that size (large float
//                                      initializers), streamed: memory does not grow with the size.
//   rss <pid>                          prints the process's current RSS in KiB (VmRSS).
//   peak <pid>                         prints its peak RSS in KiB (VmHWM).
//   reset-peak <pid>                   resets the peak RSS to the current RSS (Linux clear_refs).
return args switch
{
    ["model", var path, var mib, ..] => WriteModel(path, long.Parse(mib, CultureInfo.InvariantCulture), args.Length > 3 ? args[3] : "bench"),
    ["rss", var pid] => PrintStatus(pid, "VmRSS:"),
    ["peak", var pid] => PrintStatus(pid, "VmHWM:"),
    ["reset-peak", var pid] => ResetPeak(pid),
    _ => Usage(),
};

static int WriteModel(string path, long mib, string tag)
{
    const int chunk = 1 << 20;
    const int initializers = 4;
    var bytesPerInitializer = mib * chunk / initializers / 4 * 4;
    var floats = bytesPerInitializer / 4;

    var graph = new GraphHeader { Name = "bench" };
    graph.Input.Add(Tensor("x", 1));
    graph.Output.Add(Tensor("y", 1));
    var payloads = new List<InitializerPayload>();
    var previous = "x";
    for (var i = 0; i < initializers; i++)
    {
        var name = $"w{i}";
        var header = new TensorHeader { Name = name, DataType = ElementTypes.Float, Dims = { floats } };
        payloads.Add(new InitializerPayload(header, bytesPerInitializer, stream => WriteNoise(stream, bytesPerInitializer, i)));
        // y = x + sum(w_i) keeps every initializer part of the graph.
        var output = i == initializers - 1 ? "y" : $"s{i}";
        var sum = new NodeHeader { OpType = "Add", Name = $"add{i}", Input = { previous, name }, Output = { output } };
        graph.Node.Add(sum);
        previous = output;
    }
    var model = new ModelHeader { IrVersion = 8, ProducerName = "registry-bench", ProducerVersion = tag, Graph = graph };
    model.OpsetImport.Add(new OperatorSetId { Domain = "", Version = 17 });

    using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, chunk);
    OnnxModelWriter.Write(file, model, payloads);
    Console.WriteLine($"{path}: {file.Length:N0} bytes");
    return 0;

    static ValueInfo Tensor(string name, long n) => new()
    {
        Name = name,
        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypes.Float, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = n } } } } },
    };
}

static void WriteNoise(Stream stream, long length, int seed)
{
    var buffer = new byte[1 << 20];
    new Random(seed).NextBytes(buffer);
    long written = 0;
    for (long block = 0; written < length; block++)
    {
        BitConverter.TryWriteBytes(buffer, block);
        var n = (int)Math.Min(buffer.Length, length - written);
        stream.Write(buffer, 0, n);
        written += n;
    }
}

static int PrintStatus(string pid, string field)
{
    var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
    Console.WriteLine(line[field.Length..].Trim().Split(' ')[0]);
    return 0;
}

static int ResetPeak(string pid)
{
    File.WriteAllText($"/proc/{pid}/clear_refs", "5");
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Registry.Bench model <path> <MiB> [tag] | rss <pid> | peak <pid> | reset-peak <pid>");
    return 2;
}
