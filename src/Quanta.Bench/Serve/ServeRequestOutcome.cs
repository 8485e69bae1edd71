namespace Quanta.Bench.Serve;

/// <summary>
/// One streamed request's measurements (seconds): time to first token, the gaps between later chunks, end-to-end latency,
/// and the usage the server reported (tokens, energy_joules, cost_usd).
/// </summary>
public sealed class ServeRequestOutcome
{
    /// <summary>True when the stream completed with HTTP 200 and no error event.</summary>
    public bool Success { get; set; }

    /// <summary>Error text of a failed request.</summary>
    public string? Error { get; set; }

    /// <summary>usage.prompt_tokens (the requested input length when the server sent no usage).</summary>
    public int PromptTokens { get; set; }

    /// <summary>usage.completion_tokens (the count of text chunks when the server sent no usage).</summary>
    public int OutputTokens { get; set; }

    /// <summary>Chunks that carried choices.</summary>
    public int Chunks { get; set; }

    /// <summary>Seconds from send to the first chunk with choices.</summary>
    public double Ttft { get; set; }

    /// <summary>Seconds between consecutive chunks after the first.</summary>
    public List<double> Itl { get; } = [];

    /// <summary>Seconds from send to the end of the stream.</summary>
    public double E2el { get; set; }

    /// <summary>(E2EL − TTFT) / (output tokens − 1); 0 when fewer than two tokens.</summary>
    public double Tpot => OutputTokens > 1 ? (E2el - Ttft) / (OutputTokens - 1) : 0;

    /// <summary>usage.energy_joules; 0 when absent.</summary>
    public double EnergyJoules { get; set; }

    /// <summary>usage.cost_usd; null when absent.</summary>
    public double? CostUsd { get; set; }
}
