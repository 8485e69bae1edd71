namespace Quanta.Planner.Simulation;

/// <summary>
/// What a simulation run measured. Latency statistics and throughputs cover the measured requests (after warm-up);
/// counts, steps and the Little's-law figures cover the whole run. Times are virtual seconds.
/// </summary>
public sealed record SimulationResult
{
    /// <summary>Requests simulated.</summary>
    public required int Requests { get; init; }

    /// <summary>Requests in the statistics (after warm-up).</summary>
    public required int Measured { get; init; }

    /// <summary>Requests that produced their full output.</summary>
    public required int Completed { get; init; }

    /// <summary>Requests the engine aborted (could never fit in the KV cache).</summary>
    public required int Aborted { get; init; }

    /// <summary>Preemptions (by recomputation) over the run.</summary>
    public required long Preemptions { get; init; }

    /// <summary>Engine steps.</summary>
    public required long Steps { get; init; }

    /// <summary>Time to first token.</summary>
    public required LatencyStats Ttft { get; init; }

    /// <summary>Time per output token after the first, per request ((end − first token) / (output − 1)).</summary>
    public required LatencyStats Tpot { get; init; }

    /// <summary>End-to-end latency (arrival to last token).</summary>
    public required LatencyStats E2e { get; init; }

    /// <summary>Completed measured requests per second over the measurement window.</summary>
    public required double RequestsPerSecond { get; init; }

    /// <summary>Output tokens per second over the measurement window.</summary>
    public required double OutputTokensPerSecond { get; init; }

    /// <summary>Prompt plus output tokens per second over the measurement window.</summary>
    public required double TotalTokensPerSecond { get; init; }

    /// <summary>Measured requests meeting every per-request SLO bound, per second.</summary>
    public required double GoodputRequestsPerSecond { get; init; }

    /// <summary>Arrival rate actually realized by the measured requests (requests/s; infinity for Offline).</summary>
    public required double OfferedRequestsPerSecond { get; init; }

    /// <summary>Fraction of the run's span the device was busy executing steps.</summary>
    public required double Utilization { get; init; }

    /// <summary>From the first arrival to the last completion, seconds.</summary>
    public required double MakespanSeconds { get; init; }

    /// <summary>Time-average number of requests in the system (arrived, not finished), integrated over the run.</summary>
    public required double MeanInSystem { get; init; }

    /// <summary>Requests per second over the run (requests / span from time 0 to the last completion).</summary>
    public required double ArrivalRateOverRun { get; init; }

    /// <summary>Mean time in system over all requests, seconds.</summary>
    public required double MeanTimeInSystem { get; init; }

    /// <summary>Requests in the system (waiting or running) when the last one arrived: grows with the run when overloaded.</summary>
    public required int BacklogAtLastArrival { get; init; }

    /// <summary>Most requests waiting at once.</summary>
    public required int MaxWaiting { get; init; }

    /// <summary>Mean output tokens per measured request.</summary>
    public required double MeanOutputTokens { get; init; }

    /// <summary>Mean prompt tokens per measured request.</summary>
    public required double MeanPromptTokens { get; init; }

    /// <summary>Wall-clock seconds the simulation took.</summary>
    public required double WallSeconds { get; init; }

    /// <summary>Per-request SLO verdict (null = every aggregate bound holds).</summary>
    public string? SloViolation { get; init; }
}
