namespace Quanta.Tests.Shared;

/// <summary>
/// Bytes a piece of work allocates on the calling thread in steady state. The work runs up to <c>attempts</c> times
/// (stopping at the first run that allocates nothing) and the fewest bytes of any run count. A real per-call
/// allocation shows in every run; a one-time runtime cost does not, such as tiered JIT replacing a method in the middle
/// of a run on a loaded machine (call counting starts only after 100 ms without new tier-0 code, so under a busy CI
/// runner promotion can land in any run) or a structure the runtime builds lazily on first use. Every run's figure is
/// kept for the failure message.
/// </summary>
public static class SteadyAllocation
{
    /// <summary>Runs <paramref name="work"/> up to <paramref name="attempts"/> times; returns the fewest bytes one run allocated and every run's figure.</summary>
    public static (long Fewest, string Seen) Measure(Action work, int attempts = 5)
    {
        ArgumentNullException.ThrowIfNull(work);
        var seen = new long[attempts];
        long fewest = long.MaxValue;
        int runs = 0;
        while (runs < attempts && fewest != 0)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            work();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            seen[runs++] = bytes;
            fewest = Math.Min(fewest, bytes);
        }
        return (fewest, "bytes allocated per run: " + string.Join(", ", seen.AsSpan(0, runs).ToArray()));
    }

    /// <summary>Fails unless one of up to <paramref name="attempts"/> runs of <paramref name="work"/> allocates nothing.</summary>
    public static void AssertNone(Action work, int attempts = 5)
    {
        (long fewest, string seen) = Measure(work, attempts);
        if (fewest != 0) throw new Xunit.Sdk.XunitException("work allocates in steady state; " + seen);
    }
}
