namespace Quanta.Planner.Simulation;

/// <summary>Summary of a sample of latencies (seconds): count, mean, p50, p90, p99 and max (NaN when empty).</summary>
public sealed record LatencyStats(int Count, double Mean, double P50, double P90, double P99, double Max)
{
    /// <summary>Stats of <paramref name="values"/> (sorted in place). Percentiles interpolate linearly between order statistics.</summary>
    public static LatencyStats Of(Span<double> values)
    {
        if (values.Length == 0) return new LatencyStats(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        values.Sort();
        double sum = 0;
        foreach (double v in values) sum += v;
        return new LatencyStats(values.Length, sum / values.Length, Percentile(values, 0.50), Percentile(values, 0.90), Percentile(values, 0.99), values[^1]);
    }

    /// <summary>The <paramref name="q"/>-quantile (0..1) of sorted <paramref name="sorted"/>, linear interpolation between ranks.</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
