using System.Globalization;

namespace Quanta.Bench.Tensor;

/// <summary>What `quanta bench tensor` runs (see <see cref="TensorBenchRunner"/>).</summary>
public sealed class TensorBenchOptions
{
    /// <summary>Scenario names, in run order.</summary>
    public static IReadOnlyList<string> ScenarioNames { get; } = ["singlestream", "offline", "server"];

    /// <summary>Targets (<see cref="TensorBenchTarget.KnownNames"/>).</summary>
    public IReadOnlyList<string> Models { get; init; } = TensorBenchTarget.KnownNames;
    /// <summary>Scenarios (<see cref="ScenarioNames"/>).</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = ScenarioNames;
    /// <summary>Offline batch sizes; the largest is also the Server scenario's largest batch.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 8, 16, 32];
    /// <summary>Minimum seconds per measurement (Server: seconds of arrivals).</summary>
    public double Seconds { get; init; } = 10;
    /// <summary>Minimum queries per measurement.</summary>
    public int MinQueries { get; init; } = 32;
    /// <summary>Server arrival rate; null: half the Offline samples/s at the largest batch size (measured if needed).</summary>
    public double? ServerQps { get; init; }
    /// <summary>Server p99 bound in ms; null: the target's default (<see cref="TensorBenchTarget.DefaultLatencyBoundMs"/>).</summary>
    public double? LatencyBoundMs { get; init; }
    /// <summary>The Server scenario batcher's longest wait for a fuller batch, µs. Default 2000 (as `quanta serve`).</summary>
    public long MaxQueueDelayMicroseconds { get; init; } = 2000;
    /// <summary>Graph threads (QUANTA_GRAPH_THREADS, set before any model loads).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>ML.NET's DnnImageModels folder; null: the NuGet cache's.</summary>
    public string? ResNetFolder { get; init; }
    /// <summary>Seed of inputs and arrivals.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> for unknown names or out-of-range values.</summary>
    public void Validate()
    {
        if (Models.Count == 0) throw new ArgumentException("no models to benchmark");
        foreach (var m in Models)
            if (!TensorBenchTarget.KnownNames.Contains(m)) throw new ArgumentException($"unknown model '{m}' (choose {string.Join(", ", TensorBenchTarget.KnownNames)} or all)");
        if (Scenarios.Count == 0) throw new ArgumentException("no scenarios to run");
        foreach (var s in Scenarios)
            if (!ScenarioNames.Contains(s)) throw new ArgumentException($"unknown scenario '{s}' (choose {string.Join(", ", ScenarioNames)} or all)");
        if (BatchSizes.Count == 0 || BatchSizes.Any(b => b < 1 || b > 4096)) throw new ArgumentException("batch sizes must be 1..4096");
        if (!(Seconds > 0) || Seconds > 86400) throw new ArgumentException($"--duration must be 0..86400 seconds, got {Seconds}");
        if (MinQueries < 1) throw new ArgumentException($"--min-queries must be >= 1, got {MinQueries}");
        if (ServerQps is double q && !(q > 0 && q < 1e7)) throw new ArgumentException($"--server-qps must be positive, got {q}");
        if (LatencyBoundMs is double l && !(l > 0)) throw new ArgumentException($"--latency-bound-ms must be positive, got {l}");
        if (MaxQueueDelayMicroseconds < 0) throw new ArgumentException("--max-queue-delay-us must be >= 0");
        if (Threads < 1) throw new ArgumentException($"--threads must be >= 1, got {Threads}");
    }

    /// <summary>Parses "a,b,c" or "all" against <paramref name="known"/> (lower-cased).</summary>
    public static IReadOnlyList<string> ParseList(string text, IReadOnlyList<string> known)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(known);
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()).ToArray();
        return items.Contains("all") ? known : items;
    }

    /// <summary>Parses "1,8,16".</summary>
    public static IReadOnlyList<int> ParseBatches(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var r = new List<int>();
        foreach (var p in parts)
            r.Add(int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b >= 1 ? b : throw new ArgumentException($"--batch takes positive integers, got '{p}'"));
        return r.Distinct().Order().ToArray();
    }
}
