namespace Quanta.Planner.Simulation;

/// <summary>
/// One simulation run: <see cref="Requests"/> requests arriving by <see cref="Arrival"/> at <see cref="Rate"/>
/// requests/s with prompt and output lengths drawn from <see cref="Prompt"/> and <see cref="Output"/>, served by one
/// replica whose engine has the given scheduler limits and KV-cache blocks. The first <see cref="WarmupFraction"/> of
/// the requests (by arrival; none for Offline) are simulated but left out of the statistics.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Arrival process.</summary>
    public required ArrivalProcess Arrival { get; init; }

    /// <summary>Mean arrival rate, requests/s (ignored for Offline).</summary>
    public double Rate { get; init; } = 1;

    /// <summary>Prompt length distribution.</summary>
    public required LengthDistribution Prompt { get; init; }

    /// <summary>Output length distribution (the request's MaxNewTokens; the simulated model never stops early).</summary>
    public required LengthDistribution Output { get; init; }

    /// <summary>Requests to simulate.</summary>
    public int Requests { get; init; } = 2000;

    /// <summary>Seed of every random draw (same seed, same result).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Scheduler token budget per step (decodes plus prefill chunks).</summary>
    public int MaxBatchTokens { get; init; } = 8192;

    /// <summary>Most sequences running at once.</summary>
    public int MaxRunning { get; init; } = 256;

    /// <summary>KV-cache blocks in the pool (the null block included).</summary>
    public int KvBlocks { get; init; } = 1 << 16;

    /// <summary>Positions per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Fraction of requests (by arrival order) excluded from the statistics as warm-up.</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>Latency objectives for goodput and the sustainability verdict.</summary>
    public ServiceLevel Slo { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Arrival is null || Prompt is null || Output is null) throw new ArgumentException("arrival, prompt and output distributions are required");
        if (Requests < 1 || Requests > 50_000_000) throw new ArgumentException($"requests must lie in [1, 50,000,000], got {Requests}");
        if (!Arrival.IsOffline && (!(Rate > 0) || double.IsInfinity(Rate))) throw new ArgumentException($"rate must be a positive number of requests/s, got {Rate}");
        if (MaxBatchTokens < 1 || MaxRunning < 1) throw new ArgumentException("max batch tokens and max running must be positive");
        if (BlockSize < 1 || KvBlocks < 2) throw new ArgumentException("need a block size >= 1 and at least 2 KV blocks");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) throw new ArgumentException($"warm-up fraction must lie in [0, 1), got {WarmupFraction}");
        if ((long)(Prompt.Max + Output.Max) > 4_000_000) throw new ArgumentException("prompt + output lengths above 4M tokens are not supported");
    }
}
