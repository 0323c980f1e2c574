namespace Registry.Tests.Support;

/// <summary>
/// A wall clock that moves only when a test moves it, so that leases and expiries are tested by
/// what they promise rather than by how fast the machine is. Timers and timestamps stay the system's.
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan by)
    {
        lock (_gate) _now += by;
    }
}
