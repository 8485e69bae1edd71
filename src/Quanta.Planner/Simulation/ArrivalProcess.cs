using System.Globalization;

namespace Quanta.Planner.Simulation;

/// <summary>
/// When requests arrive. <see cref="Poisson"/>: exponential gaps (MLPerf Server's query arrival model);
/// <see cref="Gamma"/>: gamma-distributed gaps with a coefficient of variation (CV 1 = Poisson, above 1 = burstier);
/// <see cref="OnOff"/>: Poisson bursts at a peak rate during on-periods separated by silent off-periods (both
/// exponential); <see cref="Offline"/>: every request at t = 0 (MLPerf Offline). <see cref="Parse"/> reads
/// "poisson", "gamma:CV", "onoff:ON_S:OFF_S", "offline" or "server".
/// </summary>
public abstract record ArrivalProcess
{
    /// <summary>True when all requests arrive at once (no rate).</summary>
    public virtual bool IsOffline => false;

    /// <summary>Fills <paramref name="times"/> with non-decreasing arrival times (seconds) at a mean rate of <paramref name="rate"/> requests/s.</summary>
    public abstract void Generate(Span<double> times, double rate, Random rng);

    /// <summary>Exponential gaps.</summary>
    public sealed record Poisson : ArrivalProcess
    {
        /// <inheritdoc/>
        public override void Generate(Span<double> times, double rate, Random rng)
        {
            CheckRate(rate);
            double t = 0;
            for (int i = 0; i < times.Length; i++) times[i] = t += RandomVariates.Exponential(rng, 1 / rate);
        }
        /// <inheritdoc/>
        public override string ToString() => "poisson";
    }

    /// <summary>Gamma gaps with coefficient of variation <see cref="Cv"/> (shape 1/CV², mean 1/rate).</summary>
    public sealed record Gamma(double Cv) : ArrivalProcess
    {
        /// <inheritdoc/>
        public override void Generate(Span<double> times, double rate, Random rng)
        {
            CheckRate(rate);
            if (!(Cv > 0)) throw new ArgumentOutOfRangeException(nameof(Cv), Cv, "CV must be positive");
            double shape = 1 / (Cv * Cv), scale = 1 / (rate * shape), t = 0;
            for (int i = 0; i < times.Length; i++) times[i] = t += scale * RandomVariates.Gamma(rng, shape);
        }
        /// <inheritdoc/>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"gamma:{Cv}");
    }

    /// <summary>
    /// On/off bursts: on-periods (mean <see cref="OnSeconds"/>) of Poisson arrivals at rate x (on + off) / on, off-periods
    /// (mean <see cref="OffSeconds"/>) with none, so the long-run mean rate is the requested one.
    /// </summary>
    public sealed record OnOff(double OnSeconds, double OffSeconds) : ArrivalProcess
    {
        /// <inheritdoc/>
        public override void Generate(Span<double> times, double rate, Random rng)
        {
            CheckRate(rate);
            if (!(OnSeconds > 0) || !(OffSeconds >= 0)) throw new ArgumentOutOfRangeException(nameof(OnSeconds), "on-period must be positive and off-period non-negative");
            double peak = rate * (OnSeconds + OffSeconds) / OnSeconds;
            double t = 0, onEnd = RandomVariates.Exponential(rng, OnSeconds);
            for (int i = 0; i < times.Length;)
            {
                double next = t + RandomVariates.Exponential(rng, 1 / peak);
                if (next <= onEnd) { times[i++] = t = next; continue; }
                // the burst ended before the next arrival: skip the off-period, memorylessly restart inside the next burst
                t = onEnd + (OffSeconds > 0 ? RandomVariates.Exponential(rng, OffSeconds) : 0);
                onEnd = t + RandomVariates.Exponential(rng, OnSeconds);
            }
        }
        /// <inheritdoc/>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"onoff:{OnSeconds}:{OffSeconds}");
    }

    /// <summary>All requests at t = 0 (MLPerf Offline).</summary>
    public sealed record Offline : ArrivalProcess
    {
        /// <inheritdoc/>
        public override bool IsOffline => true;
        /// <inheritdoc/>
        public override void Generate(Span<double> times, double rate, Random rng) => times.Clear();
        /// <inheritdoc/>
        public override string ToString() => "offline";
    }

    /// <summary>
    /// Given arrival times (seconds, non-decreasing, ≥ 0; e.g. the moments a benchmark's requests were submitted), one
    /// per request in order; the rate is ignored. The run must simulate exactly <see cref="Times"/>.Count requests.
    /// </summary>
    public sealed record Trace : ArrivalProcess
    {
        /// <summary>Creates the trace; throws <see cref="ArgumentException"/> on a negative, non-finite or decreasing time.</summary>
        public Trace(IReadOnlyList<double> times)
        {
            ArgumentNullException.ThrowIfNull(times);
            for (int i = 0; i < times.Count; i++)
                if (!(times[i] >= 0) || double.IsInfinity(times[i]) || (i > 0 && times[i] < times[i - 1]))
                    throw new ArgumentException($"arrival trace: times must be finite, >= 0 and non-decreasing (entry {i} is {times[i]})", nameof(times));
            Times = times.ToArray();
        }

        /// <summary>The arrival times, seconds.</summary>
        public IReadOnlyList<double> Times { get; }

        /// <inheritdoc/>
        public override void Generate(Span<double> times, double rate, Random rng)
        {
            if (times.Length != Times.Count) throw new ArgumentException($"arrival trace holds {Times.Count} times, the run has {times.Length} requests");
            for (int i = 0; i < times.Length; i++) times[i] = Times[i];
        }

        /// <inheritdoc/>
        public override string ToString() => $"trace of {Times.Count}";
    }

    /// <summary>Parses "poisson" (or "server"), "gamma:CV", "onoff:ON_S:OFF_S" or "offline".</summary>
    public static ArrivalProcess Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        var inv = CultureInfo.InvariantCulture;
        try
        {
            if (t is "poisson" or "server") return new Poisson();
            if (t == "offline") return new Offline();
            if (t.StartsWith("gamma:", StringComparison.Ordinal))
            {
                double cv = double.Parse(t["gamma:".Length..], inv);
                if (!(cv > 0)) throw new ArgumentException($"arrival '{text}': CV must be positive");
                return new Gamma(cv);
            }
            if (t.StartsWith("onoff:", StringComparison.Ordinal))
            {
                string[] p = t["onoff:".Length..].Split(':');
                if (p.Length != 2) throw new FormatException();
                double on = double.Parse(p[0], inv), off = double.Parse(p[1], inv);
                if (!(on > 0) || !(off >= 0)) throw new ArgumentException($"arrival '{text}': need ON > 0 and OFF >= 0 seconds");
                return new OnOff(on, off);
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"arrival '{text}': expected poisson, server, offline, gamma:CV or onoff:ON_S:OFF_S", e);
        }
        throw new ArgumentException($"arrival '{text}': expected poisson, server, offline, gamma:CV or onoff:ON_S:OFF_S");
    }

    private static void CheckRate(double rate)
    {
        if (!(rate > 0) || double.IsInfinity(rate)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "arrival rate must be a positive number of requests per second");
    }
}
