namespace Quanta.Planner.Simulation;

/// <summary>
/// Latency objectives (seconds; null = no bound). Per-request bounds (<see cref="TtftS"/>, <see cref="TpotS"/>,
/// <see cref="E2eS"/>) decide goodput: a request counts when it meets every one of them. Aggregate bounds decide whether
/// a load is sustainable: p99 TTFT ≤ <see cref="TtftP99S"/>, p99 TPOT ≤ <see cref="TpotP99S"/>, mean end-to-end ≤
/// <see cref="E2eMeanS"/>, p99 end-to-end ≤ <see cref="E2eP99S"/>.
/// </summary>
public sealed record ServiceLevel
{
    /// <summary>Bound on p99 time to first token.</summary>
    public double? TtftP99S { get; init; }

    /// <summary>Bound on p99 time per output token (after the first).</summary>
    public double? TpotP99S { get; init; }

    /// <summary>Bound on the mean end-to-end latency.</summary>
    public double? E2eMeanS { get; init; }

    /// <summary>Bound on p99 end-to-end latency.</summary>
    public double? E2eP99S { get; init; }

    /// <summary>Per-request TTFT bound for goodput (default: the p99 bound).</summary>
    public double? TtftS { get; init; }

    /// <summary>Per-request TPOT bound for goodput (default: the p99 bound).</summary>
    public double? TpotS { get; init; }

    /// <summary>Per-request end-to-end bound for goodput (default: the p99 bound, else none).</summary>
    public double? E2eS { get; init; }

    /// <summary>No bound at all.</summary>
    public bool IsEmpty => TtftP99S is null && TpotP99S is null && E2eMeanS is null && E2eP99S is null && TtftS is null && TpotS is null && E2eS is null;

    /// <summary>True when one request with these latencies meets every per-request bound.</summary>
    public bool RequestMeets(double ttft, double tpot, double e2e) =>
        ttft <= (TtftS ?? TtftP99S ?? double.PositiveInfinity)
        && tpot <= (TpotS ?? TpotP99S ?? double.PositiveInfinity)
        && e2e <= (E2eS ?? E2eP99S ?? double.PositiveInfinity);

    /// <summary>The first aggregate bound <paramref name="r"/> violates, or null when all hold.</summary>
    public string? Violation(SimulationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (TtftP99S is double a && !(r.Ttft.P99 <= a)) return $"p99 TTFT {r.Ttft.P99 * 1e3:0.#} ms > {a * 1e3:0.#} ms";
        if (TpotP99S is double b && !(r.Tpot.P99 <= b)) return $"p99 TPOT {r.Tpot.P99 * 1e3:0.##} ms > {b * 1e3:0.##} ms";
        if (E2eMeanS is double c && !(r.E2e.Mean <= c)) return $"mean end-to-end {r.E2e.Mean * 1e3:0.#} ms > {c * 1e3:0.#} ms";
        if (E2eP99S is double d && !(r.E2e.P99 <= d)) return $"p99 end-to-end {r.E2e.P99 * 1e3:0.#} ms > {d * 1e3:0.#} ms";
        return null;
    }
}
