using System.Text.Json;
using Registry.Core.Validation;

namespace Registry.Sandbox;

/// <summary>Writes the sandbox's report as newline-delimited JSON, one flushed line per event.</summary>
internal sealed class Reporter(TextWriter output)
{
    private readonly Lock _gate = new();
    private readonly List<CheckResult> _checks = [];

    public IReadOnlyList<CheckResult> Checks => _checks;

    public void Stage(string name) => Write(new SandboxMessage(SandboxMessage.StageType, Stage: name));

    public void Check(CheckResult check)
    {
        _checks.Add(check);
        Write(new SandboxMessage(SandboxMessage.CheckType, Check: check));
    }

    public void Figures(PerformanceFigures figures, string runtime) =>
        Write(new SandboxMessage(SandboxMessage.FiguresType, Figures: figures, Runtime: runtime));

    public void Done(string runtime) => Write(new SandboxMessage(SandboxMessage.DoneType, Runtime: runtime));

    /// <summary>Marks every check not yet reported as skipped, with the reason.</summary>
    public void SkipRest(string reason)
    {
        foreach (var name in CheckNames.All.Where(n => _checks.All(c => c.Name != n)))
            Check(new CheckResult(name, CheckStatus.Skipped, reason, 0));
    }

    private void Write(SandboxMessage message)
    {
        var line = JsonSerializer.Serialize(message, SandboxMessage.Json);
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
