namespace Registry.Tests.Support;

/// <summary>Locates the repository and the shared ONNX conformance cases beside it.</summary>
public static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The ONNX backend cases; a missing folder fails the test that asks, with where it was looked for.</summary>
    public static string OnnxBackend
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "testdata", "onnx-backend"));
            if (!Directory.Exists(path))
                throw new DirectoryNotFoundException(
                    $"The ONNX backend test data is missing: expected it at {path} (../shared/testdata/onnx-backend beside the repository). " +
                    "Tests that use real models cannot run without it.");
            return path;
        }
    }

    /// <summary>Every case folder (node/* and simple/*) that holds a model.onnx.</summary>
    public static IReadOnlyList<string> BackendCases() =>
        Directory.EnumerateDirectories(OnnxBackend, "*", SearchOption.TopDirectoryOnly)
            .SelectMany(group => Directory.EnumerateDirectories(group))
            .Where(dir => File.Exists(Path.Combine(dir, "model.onnx")))
            .OrderBy(dir => dir, StringComparer.Ordinal)
            .ToList();

    public static string BackendModel(string relativeCase) => Path.Combine(OnnxBackend, relativeCase, "model.onnx");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Registry.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Registry.sln not found above {AppContext.BaseDirectory}.");
    }
}
