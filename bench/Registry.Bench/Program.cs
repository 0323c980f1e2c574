using System.Globalization;
using Registry.Core.Onnx;
using Registry.Bench;
using Registry.Core.Onnx.Proto;

// Benchmark helpers, driven by the scripts beside this project.
//   model <path> <size-in-MiB> [tag]   writes a valid ONNX model of about that size (large float
//                                      initializers), streamed: memory does not grow with the size.
//   rss <pid>                          prints the process's current RSS in KiB (VmRSS).
//   peak <pid>                         prints its peak RSS in KiB (VmHWM).
//   reset-peak <pid>                   resets the peak RSS to the current RSS (Linux clear_refs).
//   linear <path> <batch> <in> <out> [tag]   writes y = x·W + b with a [batch, in] input (W is in×out floats).
//   ort <path> <runs> <threads>        times, in this process, session creation plus <runs> runs on
//                                      synthesized inputs; prints milliseconds.
//   http <base> <key> <runs> <path>…   per path: 20 warm-up GETs, then <runs> timed ones in sequence over one
//                                      keep-alive connection; prints "path p50 p95" in milliseconds.
//   page <base> <user> <password> <runs> <path>…   signs in with headless Debian Chromium, then per path
//                                      times <runs> loads until the first table row is visible; prints "path p50 p95".
//   generate-catalogue [--models N --versions N --metrics N --big N] --Registry:…=…   fills an empty
//                                      registry (SQLite or PostgreSQL, as the settings say) with a synthetic catalogue.
//   s3put <file> <url> <bucket> <key>  puts a file the way the S3 store does, then copies it in the bucket; prints both seconds.
return args switch
{
    ["linear", var path, var batch, var inputs, var outputs, ..] => WriteLinear(path, int.Parse(batch, CultureInfo.InvariantCulture),
        int.Parse(inputs, CultureInfo.InvariantCulture), int.Parse(outputs, CultureInfo.InvariantCulture), args.Length > 5 ? args[5] : "bench"),
    ["ort", var path, var runs, var threads] => TimeOrt(path, int.Parse(runs, CultureInfo.InvariantCulture), int.Parse(threads, CultureInfo.InvariantCulture)),
    ["model", var path, var mib, ..] => WriteModel(path, long.Parse(mib, CultureInfo.InvariantCulture), args.Length > 3 ? args[3] : "bench"),
    ["http", var baseUrl, var key, var runs, .. var paths] => await TimeHttpAsync(baseUrl, key, int.Parse(runs, CultureInfo.InvariantCulture), paths),
    ["page", var baseUrl, var user, var password, var runs, .. var paths] => await TimePagesAsync(baseUrl, user, password, int.Parse(runs, CultureInfo.InvariantCulture), paths),
    [CatalogueGenerator.Command, ..] => await CatalogueGenerator.RunAsync(args),
    [S3Put.Command, var file, var url, var bucket, var key] => await S3Put.RunAsync(file, url, bucket, key),
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

static int WriteLinear(string path, int batch, int inputs, int outputs, string tag)
{
    var random = new Random(7);
    var w = new float[inputs * outputs];
    for (var i = 0; i < w.Length; i++) w[i] = random.NextSingle() - 0.5f;
    var b = new float[outputs];
    var graph = new GraphHeader { Name = "linear" };
    graph.Input.Add(Tensor2("x", batch, inputs));
    graph.Output.Add(Tensor2("y", batch, outputs));
    graph.Node.Add(new NodeHeader { OpType = "MatMul", Name = "matmul", Input = { "x", "W" }, Output = { "xw" } });
    graph.Node.Add(new NodeHeader { OpType = "Add", Name = "add", Input = { "xw", "b" }, Output = { "y" } });
    var model = new ModelHeader { IrVersion = 8, ProducerName = "registry-bench", ProducerVersion = tag, Graph = graph };
    model.OpsetImport.Add(new OperatorSetId { Domain = "", Version = 17 });
    using var file = File.Create(path);
    OnnxModelWriter.Write(file, model, [InitializerPayload.FromFloats("W", [inputs, outputs], w), InitializerPayload.FromFloats("b", [outputs], b)]);
    Console.WriteLine($"{path}: {file.Length:N0} bytes");
    return 0;

    static ValueInfo Tensor2(string name, long rows, long cols) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = ElementTypes.Float,
                Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = rows }, new TensorShapeProto.Types.Dimension { DimValue = cols } } },
            },
        },
    };
}

/// <summary>The in-process baseline: what the sandbox does at its core, without process or registry around it.</summary>
static int TimeOrt(string path, int runs, int threads)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    using var options = new Microsoft.ML.OnnxRuntime.SessionOptions
    {
        LogSeverityLevel = Microsoft.ML.OnnxRuntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
    };
    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
    var meta = session.InputMetadata.Single();
    var shape = meta.Value.Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray();
    var data = new float[shape.Aggregate(1L, (a, d) => a * d)];
    var random = new Random(1);
    for (var i = 0; i < data.Length; i++) data[i] = random.NextSingle();
    using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(data, shape);
    using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
    for (var i = 0; i < runs; i++)
    {
        using var results = session.Run(runOptions, [meta.Key], [input], session.OutputNames);
    }
    Console.WriteLine(clock.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture));
    return 0;
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
    Console.Error.WriteLine("usage: Registry.Bench model <path> <MiB> [tag] | linear … | ort … | http … | page … | rss <pid> | peak <pid> | reset-peak <pid> | generate-catalogue … | s3put <file> <url> <bucket> <key>");
    return 2;
}

static async Task<int> TimeHttpAsync(string baseUrl, string key, int runs, string[] paths)
{
    using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
    foreach (var path in paths)
    {
        for (var i = 0; i < 20; i++) (await client.GetAsync(path)).EnsureSuccessStatusCode();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await client.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            response.EnsureSuccessStatusCode();
        }
        Console.WriteLine(FormattableString.Invariant($"{path} {Percentile(times, 0.5):0.00} {Percentile(times, 0.95):0.00}"));
    }
    return 0;
}

static async Task<int> TimePagesAsync(string baseUrl, string user, string password, int runs, string[] paths)
{
    using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = "/usr/bin/chromium", Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    var context = await browser.NewContextAsync(new() { BaseURL = baseUrl, ViewportSize = new() { Width = 1280, Height = 1000 } });
    var page = await context.NewPageAsync();
    await page.GotoAsync("/login");
    await page.Locator("[data-testid=username]").FillAsync(user);
    await page.Locator("[data-testid=password]").FillAsync(password);
    await page.Locator("[data-testid=sign-in]").ClickAsync();
    await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
    foreach (var path in paths)
    {
        var times = new List<double>();
        for (var i = -2; i < runs; i++) // two warm-up loads
        {
            await page.GotoAsync("about:blank");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await page.GotoAsync(path);
            try
            {
                await page.Locator("[data-testid$='-table'] tbody tr td a").First.WaitForAsync(new() { Timeout = 30_000 });
            }
            catch (TimeoutException)
            {
                var shot = Path.Combine(Path.GetTempPath(), "registry-bench-page.png");
                await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
                await Console.Error.WriteLineAsync($"bench: {path} showed no table rows within 30 s; screenshot: {shot}");
                throw;
            }
            if (i >= 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(FormattableString.Invariant($"{path} {Percentile(times, 0.5):0} {Percentile(times, 0.95):0}"));
    }
    return 0;
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
