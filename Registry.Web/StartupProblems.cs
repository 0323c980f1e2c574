using Microsoft.Extensions.Options;
using Registry.Core;

namespace Registry.Web;

/// <summary>Turns a failure to start into the one line an operator needs: what is wrong and what to set.</summary>
public static class StartupProblems
{
    /// <summary>The message of a configuration or start-up problem, or null for any other exception (which stays a crash with its trace).</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        StartupException e => e.Message,
        OptionsValidationException e => string.Join(" ", e.Failures),
        AggregateException { InnerExceptions.Count: 1 } e => Describe(e.InnerException!),
        _ => null,
    };

    /// <summary>
    /// True when this program is the process (not hosted by a test factory, which must see the
    /// exception itself): only then is a problem reported as a message and an exit code.
    /// </summary>
    public static bool IsEntryPoint => System.Reflection.Assembly.GetEntryAssembly() == typeof(StartupProblems).Assembly;

    /// <summary>Prints the problem to standard error and returns the exit code 2.</summary>
    public static int Report(string problem)
    {
        Console.Error.WriteLine($"registry: cannot start: {problem}");
        return 2;
    }
}
