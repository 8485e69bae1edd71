using System.Globalization;

namespace Quanta.Bench.Tensor;

/// <summary>
/// `quanta bench tensor`: for each model, loads it, then runs the chosen scenarios in the order SingleStream,
/// Offline (one row per batch size), Server. The Server scenario's arrival rate defaults to half the Offline
/// samples/s at the largest batch size (measured briefly when Offline was not chosen), its largest batch to that
/// size, its latency bound to the model's default. Graph threads come from <see cref="TensorBenchOptions.Threads"/>
/// through QUANTA_GRAPH_THREADS, set before the first model loads.
/// </summary>
public static class TensorBenchRunner
{
    /// <summary>Runs the benchmark; progress lines go to <paramref name="log"/>.</summary>
    public static async Task<IReadOnlyList<TensorScenarioResult>> RunAsync(TensorBenchOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Environment.SetEnvironmentVariable("QUANTA_GRAPH_THREADS", options.Threads.ToString(CultureInfo.InvariantCulture));
        var results = new List<TensorScenarioResult>();
        int maxBatch = options.BatchSizes.Max();
        foreach (var name in options.Models)
        {
            log?.Invoke($"loading {name}");
            var target = TensorBenchTarget.Create(name, options.ResNetFolder, options.Seed, Math.Max(maxBatch, 64));
            TensorScenarioResult? largestOffline = null;
            foreach (var scenario in TensorBenchOptions.ScenarioNames.Where(options.Scenarios.Contains))
            {
                switch (scenario)
                {
                    case "singlestream":
                        log?.Invoke($"{name}: SingleStream");
                        results.Add(TensorLoadGen.SingleStream(target, options.Seconds, options.MinQueries, options.Threads));
                        break;
                    case "offline":
                        foreach (int b in options.BatchSizes)
                        {
                            log?.Invoke($"{name}: Offline batch {b}");
                            var r = TensorLoadGen.Offline(target, b, options.Seconds, options.MinQueries, options.Threads);
                            results.Add(r);
                            if (b == maxBatch) largestOffline = r;
                        }
                        break;
                    default:
                        double qps = options.ServerQps ?? 0;
                        if (qps <= 0)
                        {
                            largestOffline ??= TensorLoadGen.Offline(target, maxBatch, Math.Min(options.Seconds, 2), Math.Min(options.MinQueries, maxBatch * 2), options.Threads);
                            qps = 0.5 * largestOffline.SamplesPerSecond;
                        }
                        double bound = options.LatencyBoundMs ?? target.DefaultLatencyBoundMs;
                        log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{name}: Server at {qps:F1} queries/s, p99 bound {bound:F0} ms"));
                        var preferred = options.BatchSizes.Where(b => b > 1).ToArray();
                        results.Add(await TensorLoadGen.ServerAsync(target, qps, bound, options.Seconds, options.MinQueries, preferred,
                            options.MaxQueueDelayMicroseconds, options.Seed, options.Threads).ConfigureAwait(false));
                        break;
                }
            }
        }
        return results;
    }
}
