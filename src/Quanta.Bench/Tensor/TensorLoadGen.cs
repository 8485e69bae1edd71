using System.Diagnostics;
using Quanta.Engine.Tensor;

namespace Quanta.Bench.Tensor;

/// <summary>
/// The three LoadGen scenarios over a <see cref="TensorBenchTarget"/>. Each first runs one untimed warm-up (plans and
/// buffers are built per input shape), then measures until both the minimum duration and the minimum query count are
/// reached (Server: for the duration's worth of arrivals).
/// </summary>
public static class TensorLoadGen
{
    /// <summary>SingleStream: one one-sample query at a time, the next issued when the previous completes.</summary>
    public static TensorScenarioResult SingleStream(TensorBenchTarget target, double minSeconds, int minQueries, int threads)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Model.Run([target.NextQuery()]);
        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < minSeconds || latencies.Count < minQueries)
        {
            var q = target.NextQuery();
            long t0 = Stopwatch.GetTimestamp();
            target.Model.Run([q]);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        double seconds = total.Elapsed.TotalSeconds;
        var (mean, p50, p90, p99, max) = TensorScenarioResult.Stats(latencies);
        return new TensorScenarioResult
        {
            Model = target.Name, Scenario = "SingleStream", Unit = target.Unit, Batch = 1, Threads = threads,
            Queries = latencies.Count, Samples = latencies.Count, DurationSeconds = seconds,
            SamplesPerSecond = latencies.Count / seconds, QueriesPerSecond = latencies.Count / seconds,
            MeanMs = mean, P50Ms = p50, P90Ms = p90, P99Ms = p99, MaxMs = max,
        };
    }

    /// <summary>Offline at one batch size: model runs of <paramref name="batch"/> one-sample queries, back to back.</summary>
    public static TensorScenarioResult Offline(TensorBenchTarget target, int batch, double minSeconds, int minQueries, int threads)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "must be at least 1");
        if (target.Model.MaxBatchSize > 0 && batch > target.Model.MaxBatchSize)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"model {target.Name} runs at most {target.Model.MaxBatchSize} samples at once");
        InferenceRequest[] Batch()
        {
            var b = new InferenceRequest[batch];
            for (int i = 0; i < b.Length; i++) b[i] = target.NextQuery();
            return b;
        }
        target.Model.Run(Batch());
        var latencies = new List<double>();
        long samples = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < minSeconds || samples < minQueries)
        {
            var b = Batch();
            long t0 = Stopwatch.GetTimestamp();
            target.Model.Run(b);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            samples += batch;
        }
        double seconds = total.Elapsed.TotalSeconds;
        var (mean, p50, p90, p99, max) = TensorScenarioResult.Stats(latencies);
        return new TensorScenarioResult
        {
            Model = target.Name, Scenario = "Offline", Unit = target.Unit, Batch = batch, Threads = threads,
            Queries = (int)samples, Samples = samples, DurationSeconds = seconds,
            SamplesPerSecond = samples / seconds, QueriesPerSecond = samples / seconds,
            MeanMs = mean, P50Ms = p50, P90Ms = p90, P99Ms = p99, MaxMs = max,
        };
    }

    /// <summary>
    /// Server: ⌈qps × seconds⌉ (at least <paramref name="minQueries"/>) one-sample queries arriving as a Poisson process
    /// (exponential gaps, seeded) into a <see cref="DynamicBatcher"/> with <paramref name="preferredBatchSizes"/> and
    /// <paramref name="maxQueueDelayMicroseconds"/>. Each latency runs from the query's scheduled arrival to its answer,
    /// so an issuer or server that falls behind is charged for it.
    /// </summary>
    public static async Task<TensorScenarioResult> ServerAsync(TensorBenchTarget target, double qps, double latencyBoundMs, double seconds, int minQueries,
        IReadOnlyList<int> preferredBatchSizes, long maxQueueDelayMicroseconds, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(preferredBatchSizes);
        if (!(qps > 0) || double.IsInfinity(qps)) throw new ArgumentOutOfRangeException(nameof(qps), qps, "must be a positive rate");
        int n = (int)Math.Min(Math.Max(Math.Ceiling(qps * seconds), minQueries), 10_000_000);
        target.Model.Run([target.NextQuery()]);
        var options = new DynamicBatcherOptions { PreferredBatchSizes = preferredBatchSizes, MaxQueueDelayMicroseconds = maxQueueDelayMicroseconds, MaxQueueSize = Math.Max(n, 1) };
        var batcher = new DynamicBatcher(target.Model, options);
        await using (batcher.ConfigureAwait(false))
        {
            // warm the batcher's paths too (JIT, thread pool), untimed
            for (int i = 0; i < 3; i++) await batcher.InferAsync(target.NextQuery()).ConfigureAwait(false);
            var latencies = new double[n];
            var ok = new bool[n];
            var tasks = new Task[n];
            var random = new Random(seed);
            double freq = Stopwatch.Frequency;
            long start = Stopwatch.GetTimestamp();
            double at = 0; // seconds after start
            var issuer = Task.Factory.StartNew(() =>
            {
                for (int i = 0; i < n; i++)
                {
                    at += -Math.Log(1 - random.NextDouble()) / qps;
                    long due = start + (long)(at * freq);
                    for (long now = Stopwatch.GetTimestamp(); now < due; now = Stopwatch.GetTimestamp())
                    {
                        double left = (due - now) / freq;
                        if (left > 0.002) Thread.Sleep(1);
                        else Thread.SpinWait(64);
                    }
                    int k = i;
                    tasks[k] = Issue(batcher, target.NextQuery(), due, latencies, ok, k);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await issuer.ConfigureAwait(false);
            await Task.WhenAll(tasks).ConfigureAwait(false);
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var answered = latencies.Where((_, i) => ok[i]).ToArray();
            int failed = n - answered.Length;
            var (mean, p50, p90, p99, max) = TensorScenarioResult.Stats(answered);
            return new TensorScenarioResult
            {
                Model = target.Name, Scenario = "Server", Unit = target.Unit, Threads = threads,
                Batch = preferredBatchSizes.Count > 0 ? preferredBatchSizes.Max() : Math.Max(target.Model.MaxBatchSize, 1),
                Queries = answered.Length, Samples = answered.Length, DurationSeconds = elapsed,
                SamplesPerSecond = answered.Length / elapsed, QueriesPerSecond = answered.Length / elapsed,
                MeanMs = mean, P50Ms = p50, P90Ms = p90, P99Ms = p99, MaxMs = max,
                TargetQps = qps, LatencyBoundMs = latencyBoundMs, Valid = failed == 0 && p99 <= latencyBoundMs, Failed = failed,
                Batches = batcher.BatchesStarted,
            };
        }
    }

    private static async Task Issue(DynamicBatcher batcher, InferenceRequest query, long due, double[] latencies, bool[] ok, int k)
    {
        try
        {
            await batcher.InferAsync(query).ConfigureAwait(false);
            latencies[k] = (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency;
            ok[k] = true;
        }
        catch (TensorQueueFullException)
        {
            ok[k] = false;
        }
    }
}
