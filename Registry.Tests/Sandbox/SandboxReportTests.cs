using System.Text;
using System.Text.Json;
using Registry.Core.Catalog;
using Registry.Core.Validation;
using Registry.Web.Validation;

namespace Registry.Tests.Sandbox;

/// <summary>What the server keeps of a sandbox's output, whatever a model makes the sandbox print.</summary>
public class SandboxReportTests
{
    private static string Line(SandboxMessage message) => JsonSerializer.Serialize(message, SandboxMessage.Json) + "\n";

    private static async Task<SandboxRunner.RunState> ReadAsync(Stream output)
    {
        var state = new SandboxRunner.RunState();
        await SandboxRunner.ReadReportAsync(new StreamReader(output, Encoding.UTF8), state);
        return state;
    }

    [Fact]
    public void A_sandbox_killed_between_one_check_and_the_next_fails_the_next_one()
    {
        // The load check reported, the smoke stage not yet announced, then SIGKILL (seen in a run
        // where the kill landed there: the verdict was "no timed runs", as if nothing had failed).
        var state = new SandboxRunner.RunState { Stage = CheckNames.Load };
        foreach (var name in new[] { CheckNames.Format, CheckNames.Security, CheckNames.Load })
            state.Checks.Add(new CheckResult(name, CheckStatus.Passed, "ok", 1));
        var options = new ValidationOptions();
        var runner = new SandboxRunner(Microsoft.Extensions.Options.Options.Create(options), new Registry.Data.DataPaths(new Registry.Data.StorageOptions()),
            new SandboxLauncher(Microsoft.Extensions.Options.Options.Create(options), new Registry.Data.DataPaths(new Registry.Data.StorageOptions()),
                Microsoft.Extensions.Logging.Abstractions.NullLogger<SandboxLauncher>.Instance),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SandboxRunner>.Instance);

        var outcome = runner.Verdict(state, killedFor: null, exitCode: 137, stderr: "", peakRss: 0, options);

        Assert.Equal(ValidationStatus.Failed, outcome.Status);
        var smoke = Assert.Single(outcome.Checks, c => c.Name == CheckNames.Smoke);
        Assert.Equal(CheckStatus.Failed, smoke.Status);
        Assert.Contains("killed by signal 9 (SIGKILL)", smoke.Message);
        Assert.All(outcome.Checks.Where(c => c.Name is not (CheckNames.Format or CheckNames.Security or CheckNames.Load or CheckNames.Smoke)),
            c => Assert.Equal(CheckStatus.Skipped, c.Status));
    }

    [Fact]
    public async Task A_line_without_end_is_dropped_unread_and_the_report_around_it_is_kept()
    {
        var check = new CheckResult(CheckNames.Format, CheckStatus.Passed, "ok", 1);
        var output = new ConcatenatedStream(
            Encoding.UTF8.GetBytes(Line(new SandboxMessage(SandboxMessage.CheckType, Check: check))),
            new RepeatingStream((byte)'x', 64L * 1024 * 1024), // 64 MiB on one line
            Encoding.UTF8.GetBytes("\n" + Line(new SandboxMessage(SandboxMessage.DoneType))));

        var state = await ReadAsync(output);

        Assert.True(state.OutputOverflow);
        Assert.Equal([CheckNames.Format], state.Checks.Select(c => c.Name));
        Assert.True(state.Done);
    }

    [Fact]
    public async Task Ordinary_lines_and_noise_from_native_libraries_are_no_overflow()
    {
        var check = new CheckResult(CheckNames.Load, CheckStatus.Passed, new string('m', 100_000), 1);
        var output = new MemoryStream(Encoding.UTF8.GetBytes(
            "onnxruntime: some native chatter\n" + Line(new SandboxMessage(SandboxMessage.CheckType, Check: check)) + Line(new SandboxMessage(SandboxMessage.DoneType))));

        var state = await ReadAsync(output);

        Assert.False(state.OutputOverflow);
        Assert.Equal(100_000, state.Checks.Single().Message.Length);
        Assert.True(state.Done);
    }

    /// <summary>The same byte, <paramref name="length"/> times, never held in memory.</summary>
    private sealed class RepeatingStream(byte value, long length) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill(value);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Byte arrays and streams read one after another.</summary>
    private sealed class ConcatenatedStream(params object[] parts) : Stream
    {
        private readonly Queue<Stream> _parts = new(parts.Select(p => p as Stream ?? new MemoryStream((byte[])p)));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_parts.Count > 0)
            {
                var n = _parts.Peek().Read(buffer, offset, count);
                if (n > 0) return n;
                _parts.Dequeue();
            }
            return 0;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
