using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;
using Quanta.Planner.Simulation;

namespace Quanta.Planner.Fleet;

/// <summary>
/// A language-model serving workload to size a fleet for: the model at a precision, request lengths, the total
/// request rate, latency objectives and a utilization cap (each replica is loaded to at most this fraction of its
/// simulated saturation throughput), plus the simulation settings used to judge one replica.
/// </summary>
public sealed record LlmWorkload
{
    /// <summary>The model (kind llm).</summary>
    public required ModelSpec Model { get; init; }

    /// <summary>Weight (and math) precision.</summary>
    public Precision Weights { get; init; } = Precision.Bf16;

    /// <summary>KV-cache precision.</summary>
    public Precision Kv { get; init; } = Precision.Bf16;

    /// <summary>Prompt length distribution.</summary>
    public required LengthDistribution Prompt { get; init; }

    /// <summary>Output length distribution.</summary>
    public required LengthDistribution Output { get; init; }

    /// <summary>Total request rate of the whole fleet, requests/s.</summary>
    public required double RequestsPerSecond { get; init; }

    /// <summary>Latency objectives every replica must meet.</summary>
    public ServiceLevel Slo { get; init; } = new();

    /// <summary>Most of a replica's saturation throughput it may be loaded with (0, 1].</summary>
    public double UtilizationCap { get; init; } = 1;

    /// <summary>Arrival process each replica sees (a load balancer spreading Poisson traffic leaves it Poisson).</summary>
    public ArrivalProcess Arrival { get; init; } = new ArrivalProcess.Poisson();

    /// <summary>Largest tensor-parallel group tried (powers of two from the smallest that fits).</summary>
    public int MaxTensorParallel { get; init; } = 8;

    /// <summary>Requests per simulation while searching the sustainable rate.</summary>
    public int SearchRequests { get; init; } = 1000;

    /// <summary>Requests simulated at the chosen operating point (the reported latencies).</summary>
    public int OperatingRequests { get; init; } = 3000;

    /// <summary>Seed of every simulation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Scheduler token budget per step.</summary>
    public int MaxBatchTokens { get; init; } = 8192;

    /// <summary>Most sequences a replica runs at once (default: the serving model's engine batch cap, TensorRT-LLM's max_batch_size).</summary>
    public int MaxRunning { get; init; } = ServingModel.EngineBatchCap;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Model is null || !Model.IsLlm) throw new ArgumentException("the workload needs a language model");
        if (!(RequestsPerSecond > 0) || double.IsInfinity(RequestsPerSecond)) throw new ArgumentException($"request rate must be positive, got {RequestsPerSecond}");
        if (!(UtilizationCap > 0 && UtilizationCap <= 1)) throw new ArgumentException($"utilization cap must lie in (0, 1], got {UtilizationCap}");
        if (MaxTensorParallel < 1 || MaxTensorParallel > 64) throw new ArgumentException($"max tensor parallel must lie in [1, 64], got {MaxTensorParallel}");
        if (SearchRequests < 100 || OperatingRequests < 100) throw new ArgumentException("simulate at least 100 requests per run");
        if (Arrival is null || Arrival.IsOffline) throw new ArgumentException("fleet sizing needs an arrival rate process (poisson, gamma:CV, onoff:...), not offline");
    }
}
