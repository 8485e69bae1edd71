using System.Diagnostics;
using System.Globalization;
using System.Text;
using Quanta.Engine.Execution;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Models;

namespace Quanta.Bench.Serve;

/// <summary>Settings of <see cref="ServeScalingRunner"/>.</summary>
public sealed record ServeScalingOptions
{
    /// <summary>Concurrent streams to measure (each keeps that many requests in flight).</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 16];

    /// <summary>Requests per stream (measured after the unmeasured warm-up rounds, see <see cref="MaxWarmUps"/>).</summary>
    public int RequestsPerStream { get; init; } = 2;

    /// <summary>
    /// Most unmeasured warm-up rounds (one request per stream each) before the measured requests of a concurrency: after
    /// each the runner waits for the background JIT to settle (<see cref="Quanta.Engine.Execution.ExecutorWarmUp.Settle"/>),
    /// and runs another while the last one made the JIT compile methods. The engine's own warm-up covers the forward
    /// pass; the first requests still compile the scheduler, sampler and streaming code, and re-optimise it after about
    /// 30 calls: with a single warm-up round the one-stream measurement compiled ~600 methods (0.4 s of JIT on a
    /// 2-core machine, during a 1.2 s round).
    /// </summary>
    public int MaxWarmUps { get; init; } = 3;

    /// <summary>Prompt tokens (random ids) per request.</summary>
    public int PromptTokens { get; init; } = 16;

    /// <summary>Generated tokens per request (ignore_eos: always this many).</summary>
    public int OutputTokens { get; init; } = 128;

    /// <summary>
    /// The machine's int8 multiply-add rate in operations per second (2 per multiply-add) that the compute ceiling is
    /// computed from. Null (the default): measured in the run with the engine's thread count
    /// (<see cref="Quanta.Core.Diagnostics.ComputeRate.MeasureInt8"/>, one second before the first round and one after
    /// the last; the ceiling takes their mean), since clocks under load, not the data sheet, set what the kernels can do.
    /// </summary>
    public double? Int8OpsPerSecond { get; init; }

    /// <summary>A fixed int8 rate the report also judges the throughput against (default 467e9, the issue's figure for
    /// this project's 2-thread reference machine), so runs on machines or days with other clocks stay comparable.</summary>
    public double ReferenceInt8OpsPerSecond { get; init; } = 467e9;

    /// <summary>Seed of the prompts.</summary>
    public int Seed { get; init; }

    /// <summary>Whether to read the memory bandwidth (two seconds, the engine's threads) before the first round and after
    /// the last, as <c>quanta bench</c> brackets its decode tests (default true).</summary>
    public bool MeasureBandwidth { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> on an out-of-range setting.</summary>
    public void Validate()
    {
        if (Concurrency.Count == 0 || Concurrency.Any(c => c < 1)) throw new ArgumentException("--concurrency takes positive integers");
        if (RequestsPerStream < 1) throw new ArgumentException("--requests-per-stream must be at least 1");
        if (MaxWarmUps < 1) throw new ArgumentException($"at least one warm-up round, got {MaxWarmUps}");
        if (PromptTokens < 1) throw new ArgumentException("--prompt-len must be at least 1");
        if (OutputTokens < 1) throw new ArgumentException("--output-len must be at least 1");
        if (Int8OpsPerSecond is double r && (!(r > 0) || double.IsInfinity(r))) throw new ArgumentException("--int8-gops must be positive");
        if (!(ReferenceInt8OpsPerSecond > 0) || double.IsInfinity(ReferenceInt8OpsPerSecond)) throw new ArgumentException("the reference int8 rate must be positive");
    }
}

/// <summary>Aggregate decode throughput at one concurrency.</summary>
/// <param name="Concurrency">Streams in flight.</param>
/// <param name="OutputTokens">Tokens generated over the measured requests.</param>
/// <param name="Seconds">Wall time of the measured requests.</param>
/// <param name="Steps">The engine steps of the measured requests when the engine's executor was wrapped in a
/// <see cref="ServeStepTimer"/> (see <see cref="ServeScalingRunner.RunAsync"/>); empty otherwise.</param>
/// <param name="JitMethods">Methods the JIT compiled (any tier) in the process during the measured requests.</param>
/// <param name="JitSeconds">Time the JIT spent compiling during the measured requests (all threads).</param>
/// <param name="WarmUpSeconds">Wall time of the unmeasured rounds (one request per stream each) before the measured
/// ones, their JIT settling waits included.</param>
/// <param name="WarmUpJitMethods">Methods the JIT compiled during those rounds and waits.</param>
/// <param name="WarmUpRounds">Unmeasured rounds run (<see cref="ServeScalingOptions.MaxWarmUps"/>).</param>
public sealed record ServeScalingPoint(int Concurrency, long OutputTokens, double Seconds, IReadOnlyList<TimedStep> Steps,
    long JitMethods = 0, double JitSeconds = 0, double WarmUpSeconds = 0, long WarmUpJitMethods = 0, int WarmUpRounds = 1)
{
    /// <summary>Output tokens per second over all streams.</summary>
    public double TokensPerSecond => OutputTokens / Seconds;
}

/// <summary>
/// The result of <see cref="ServeScalingRunner"/>: throughput per concurrency, the speed-up of the largest concurrency
/// over the smallest, and the fraction of the compute ceiling (int8 rate / (2 × matrix weights per token)).
/// </summary>
/// <param name="Points">One per concurrency, in the order asked.</param>
/// <param name="WeightsPerToken">Matrix weights every token multiplies (attention, feed-forward, output head).</param>
/// <param name="Int8OpsPerSecond">The int8 rate the ceiling assumes.</param>
/// <param name="Int8Readings">The int8 rates measured in the run (before the first round, after the last) whose mean is
/// <paramref name="Int8OpsPerSecond"/>; empty when the rate was given.</param>
/// <param name="ReferenceInt8OpsPerSecond">A fixed rate the report also judges against (0: none).</param>
/// <param name="BandwidthReadings">Read bandwidth in bytes/s measured before the first round and after the last
/// (<see cref="ServeScalingOptions.MeasureBandwidth"/>); empty when not measured. This machine's bandwidth switches
/// between two states by itself and the 16-stream step's time moves with it, so a report says which it drew.</param>
public sealed record ServeScalingResult(IReadOnlyList<ServeScalingPoint> Points, long WeightsPerToken, double Int8OpsPerSecond,
    IReadOnlyList<double>? Int8Readings = null, double ReferenceInt8OpsPerSecond = 0, IReadOnlyList<double>? BandwidthReadings = null)
{
    /// <summary>Tokens per second <see cref="ReferenceInt8OpsPerSecond"/> allows (0 when there is none).</summary>
    public double ReferenceCeilingTokensPerSecond => ReferenceInt8OpsPerSecond / (2.0 * WeightsPerToken);

    /// <summary>Tokens per second the int8 rate allows: rate / (2 × weights per token).</summary>
    public double CeilingTokensPerSecond => Int8OpsPerSecond / (2.0 * WeightsPerToken);

    /// <summary>Throughput at the largest concurrency / at the smallest.</summary>
    public double Speedup
    {
        get
        {
            ServeScalingPoint lo = Points.MinBy(p => p.Concurrency)!, hi = Points.MaxBy(p => p.Concurrency)!;
            return hi.TokensPerSecond / lo.TokensPerSecond;
        }
    }

    /// <summary>A short report.</summary>
    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string source = Int8Readings is { Count: > 0 } rs
            ? $"measured in this run ({Quanta.Core.Diagnostics.ComputeRate.Int8Instructions}; readings {string.Join(", ", rs.Select(r => (r / 1e9).ToString("F1", ci)))} GOP/s)"
            : "given";
        sb.Append(ci, $"matrix weights per token: {WeightsPerToken:N0}; compute ceiling {CeilingTokensPerSecond:F1} tok/s at {Int8OpsPerSecond / 1e9:F1} GOP/s int8, {source} (2 ops per weight per token)\n");
        bool reference = ReferenceInt8OpsPerSecond > 0 && Math.Abs(ReferenceInt8OpsPerSecond - Int8OpsPerSecond) > 1e-6 * Int8OpsPerSecond;
        if (BandwidthReadings is { Count: > 0 } bw)
            sb.Append(ci, $"read bandwidth before / after the rounds: {string.Join(" / ", bw.Select(b => (b / 1e9).ToString("F1", ci)))} GB/s\n");
        if (reference)
            sb.Append(ci, $"reference ceiling {ReferenceCeilingTokensPerSecond:F1} tok/s at a fixed {ReferenceInt8OpsPerSecond / 1e9:F1} GOP/s int8\n");
        sb.Append(reference
            ? "| streams | output tokens | seconds | tok/s | of ceiling | of reference ceiling | JIT-compiled methods (ms) | unmeasured warm-up: rounds, s, JIT methods |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            : "| streams | output tokens | seconds | tok/s | of ceiling | JIT-compiled methods (ms) | unmeasured warm-up: rounds, s, JIT methods |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (ServeScalingPoint p in Points)
        {
            string refCell = reference ? string.Create(ci, $" {p.TokensPerSecond / ReferenceCeilingTokensPerSecond:P1} |") : "";
            sb.Append(ci, $"| {p.Concurrency} | {p.OutputTokens} | {p.Seconds:F2} | {p.TokensPerSecond:F1} | {p.TokensPerSecond / CeilingTokensPerSecond:P1} |{refCell} {p.JitMethods} ({p.JitSeconds * 1e3:F0}) | {p.WarmUpRounds}, {p.WarmUpSeconds:F2}, {p.WarmUpJitMethods} |\n");
        }
        ServeScalingPoint lo = Points.MinBy(p => p.Concurrency)!, hi = Points.MaxBy(p => p.Concurrency)!;
        sb.Append(ci, $"speed-up {hi.Concurrency} vs {lo.Concurrency} streams: {Speedup:F2}x\n");
        foreach (ServeScalingPoint p in Points.Where(p => p.Steps.Count > 0))
        {
            sb.Append(ci, $"\nsteps of the measured {p.Concurrency}-stream requests (executor = the model's forward pass; loop gap = sampling, token hand-off and scheduling between steps):\n");
            sb.Append(ServeStepTimer.Summary(p.Steps));
            if (ServeStepTimer.DecodeTokensPerSecond(p.Steps, p.Concurrency) is double d)
                sb.Append(ci, $"decode-only rate at {p.Concurrency} streams (median executor time + loop gap of the decode x{p.Concurrency} steps): {d:F1} tok/s; the round's {p.TokensPerSecond:F1} tok/s also pays for the prompts\n");
            static double G(TimedStep t) => double.IsNaN(t.GapSeconds) ? 0 : t.GapSeconds;   // NaN: an idle wait, not loop work
            double exec = p.Steps.Sum(t => t.ExecuteSeconds), gap = p.Steps.Sum(G);
            double full = p.Steps.Where(t => t.Tokens == p.Concurrency && t.Sequences == p.Concurrency).Sum(t => t.ExecuteSeconds + G(t));
            int fullSteps = p.Steps.Count(t => t.Tokens == p.Concurrency && t.Sequences == p.Concurrency);
            sb.Append(ci, $"where the round's {p.Seconds:F2} s went: executor {exec:F2} s ({fullSteps} full-batch decode steps {full:F2} s incl. their gaps, mean {(fullSteps > 0 ? full / fullSteps * 1e3 : 0):F2} ms), loop gaps {gap:F2} s, outside any step (engine idle, request hand-over) {p.Seconds - exec - gap:F2} s\n");
        }
        return sb.ToString();
    }
}

/// <summary>
/// Aggregate output tokens/s of a <see cref="ServingEngine"/> (continuous batching, in process) at several
/// concurrencies: for each, that many streams each run <see cref="ServeScalingOptions.RequestsPerStream"/> greedy
/// ignore_eos requests back to back after one unmeasured warm-up request each; throughput = tokens / wall time.
/// </summary>
public static class ServeScalingRunner
{
    /// <summary>Matrix weights a token multiplies in a decoder of <paramref name="c"/>: q, k, v, o and the three
    /// feed-forward matrices per layer, plus the output head (the embedding lookup is not compute).</summary>
    public static long WeightsPerToken(ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long e = c.EmbeddingLength, q = (long)c.Heads * c.HeadDim, kv = (long)c.KvHeads * c.HeadDim;
        long perLayer = e * q + 2 * e * kv + q * e + 3 * e * c.FeedForwardLength;
        return c.Layers * perLayer + (long)c.VocabSize * e;
    }

    /// <summary>
    /// Runs the measurement on <paramref name="engine"/> (its MaxRunning must cover the largest concurrency). When
    /// <paramref name="steps"/> is the timer the engine's executor was wrapped in, each point carries the engine steps
    /// of its measured requests.
    /// </summary>
    public static async Task<ServeScalingResult> RunAsync(ServingEngine engine, ServeScalingOptions options,
        Action<string>? log = null, CancellationToken cancel = default, ServeStepTimer? steps = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int max = options.Concurrency.Max();
        if (max > engine.Options.MaxRunning)
            throw new ArgumentException($"concurrency {max} exceeds the engine's {engine.Options.MaxRunning} running sequences");
        if (options.PromptTokens + options.OutputTokens >= engine.ContextLength)
            throw new ArgumentException($"prompt + output ({options.PromptTokens + options.OutputTokens}) must be below the context length {engine.ContextLength}");
        int vocab = engine.Model.Tokenizer.VocabSize;
        var rng = new Random(options.Seed);
        var points = new List<ServeScalingPoint>();
        var int8 = new List<double>();
        var bandwidth = new List<double>();
        int threads = engine.Threads;
        if (options.MeasureBandwidth) bandwidth.Add(Quanta.Core.Diagnostics.MemoryBandwidth.MeasureRead(threads).BytesPerSecond);
        if (options.Int8OpsPerSecond is null)
        {
            log?.Invoke("measuring the int8 rate");
            int8.Add(Quanta.Core.Diagnostics.ComputeRate.MeasureInt8(threads).OpsPerSecond);
        }
        foreach (int c in options.Concurrency)
        {
            long warmJit0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            long warmStart = Stopwatch.GetTimestamp();
            int warmRounds = 0;
            for (long before = warmJit0; warmRounds < options.MaxWarmUps;)
            {
                await RoundAsync(engine, c, 1, options, rng, vocab, cancel).ConfigureAwait(false);
                warmRounds++;
                long after = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (after == before) break;
                ExecutorWarmUp.Settle();
                before = System.Runtime.JitInfo.GetCompiledMethodCount();
            }
            double warmSeconds = Stopwatch.GetElapsedTime(warmStart).TotalSeconds;
            long warmJit = System.Runtime.JitInfo.GetCompiledMethodCount() - warmJit0;
            steps?.Mark();
            long jit0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            TimeSpan jitTime0 = System.Runtime.JitInfo.GetCompilationTime();
            long start = Stopwatch.GetTimestamp();
            long tokens = await RoundAsync(engine, c, options.RequestsPerStream, options, rng, vocab, cancel).ConfigureAwait(false);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var point = new ServeScalingPoint(c, tokens, seconds, steps?.Take() ?? [],
                System.Runtime.JitInfo.GetCompiledMethodCount() - jit0, (System.Runtime.JitInfo.GetCompilationTime() - jitTime0).TotalSeconds,
                warmSeconds, warmJit, warmRounds);
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{c} streams: {point.TokensPerSecond:F1} tok/s"));
            points.Add(point);
        }
        if (options.Int8OpsPerSecond is null) int8.Add(Quanta.Core.Diagnostics.ComputeRate.MeasureInt8(threads).OpsPerSecond);
        if (options.MeasureBandwidth) bandwidth.Add(Quanta.Core.Diagnostics.MemoryBandwidth.MeasureRead(threads).BytesPerSecond);
        return new ServeScalingResult(points, WeightsPerToken(engine.Model.Model.Config), options.Int8OpsPerSecond ?? int8.Average(),
            int8, options.ReferenceInt8OpsPerSecond, bandwidth);
    }

    private static async Task<long> RoundAsync(ServingEngine engine, int streams, int requests, ServeScalingOptions o, Random rng, int vocab, CancellationToken cancel)
    {
        var prompts = new int[streams * requests][];
        for (int i = 0; i < prompts.Length; i++)
        {
            prompts[i] = new int[o.PromptTokens];
            for (int t = 0; t < o.PromptTokens; t++) prompts[i][t] = rng.Next(Math.Min(3, vocab - 1), vocab);
        }
        var tasks = new Task<long>[streams];
        for (int s = 0; s < streams; s++)
        {
            int stream = s;
            tasks[s] = Task.Run(async () =>
            {
                long n = 0;
                for (int r = 0; r < requests; r++)
                {
                    ServingCall call = engine.Submit(new ServingRequest
                    {
                        Prompt = prompts[stream * requests + r],
                        Sampling = new SamplingParameters { Temperature = 0, MaxTokens = o.OutputTokens },
                        IgnoreEos = true,
                    }, cancel);
                    await foreach (ServingDelta _ in call.ReadAllAsync(cancel).ConfigureAwait(false)) { }
                    n += (await call.Usage.ConfigureAwait(false)).CompletionTokens;
                }
                return n;
            }, cancel);
        }
        long total = 0;
        foreach (long n in await Task.WhenAll(tasks).ConfigureAwait(false)) total += n;
        return total;
    }
}
