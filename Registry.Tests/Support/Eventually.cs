namespace Registry.Tests.Support;

/// <summary>
/// Waits for something a test expects to become true. The bound is a deadline generous enough for a
/// loaded 2-core machine, never an expectation of speed: a test fails on it only when the thing never
/// happens.
/// </summary>
public static class Eventually
{
    /// <summary>The default bound: far beyond what anything waited for takes on a busy machine.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or the bound passes (false).</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? bound = null, int pollMilliseconds = 50)
    {
        var deadline = DateTime.UtcNow + (bound ?? Bound);
        while (true)
        {
            if (await condition()) return true;
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(pollMilliseconds);
        }
    }

    /// <inheritdoc cref="HoldsAsync(Func{Task{bool}}, TimeSpan?, int)"/>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? bound = null, int pollMilliseconds = 50) =>
        HoldsAsync(() => Task.FromResult(condition()), bound, pollMilliseconds);
}
