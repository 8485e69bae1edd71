using System.Diagnostics;
using System.Globalization;
using Quanta.Core.Diagnostics;
using Quanta.Engine.Execution;
using Quanta.Models.KvCache;

namespace Quanta.Bench;

/// <summary>
/// Runs llama-bench's tests on an <see cref="IBenchEngine"/>: for each test, untimed warm-ups (one, and more while the
/// JIT is still compiling: <see cref="BenchOptions.MaxWarmUps"/>) and then <see cref="BenchOptions.Repetitions"/> timed
/// repetitions, each starting from an empty cache (plus
/// <see cref="BenchOptions.Depth"/> untimed tokens) and timing only the forward passes over random token ids.
/// A generation test is bracketed by two read-bandwidth measurements (<see cref="MemoryBandwidth.MeasureRead"/>); when
/// they differ by more than the tolerance the test is rerun, at most <see cref="BenchOptions.MaxBandwidthAttempts"/>
/// times, and the last run is reported (flagged when still unstable).
/// </summary>
public static class BenchRunner
{
    /// <summary>Measures read bandwidth with <paramref name="threads"/> threads for <paramref name="seconds"/> s; returns bytes/s.</summary>
    public delegate double BandwidthProbe(int threads, double seconds);

    /// <summary>The default probe: <see cref="MemoryBandwidth.MeasureRead"/>.</summary>
    public static double MeasureBandwidth(int threads, double seconds) => MemoryBandwidth.MeasureRead(threads, seconds).BytesPerSecond;

    /// <summary>Runs every test of <paramref name="options"/>; <paramref name="log"/> gets one line per step;
    /// <paramref name="compiledMethods"/> counts the methods the JIT has compiled so far (default:
    /// <see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/>), which decides whether another warm-up runs.</summary>
    public static IReadOnlyList<BenchResult> Run(IBenchEngine engine, BenchModelInfo model, BenchOptions options,
        Action<string>? log = null, BandwidthProbe? probe = null, Func<long>? compiledMethods = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        probe ??= MeasureBandwidth;
        compiledMethods ??= () => System.Runtime.JitInfo.GetCompiledMethodCount();
        var rng = new Random(options.Seed);
        var results = new List<BenchResult>();
        foreach (BenchTest test in options.Tests())
        {
            string started = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            bool measure = test.IsGeneration && options.BandwidthSeconds > 0;
            double before = 0, after = 0;
            bool unstable = false;
            int attempts = 0;
            long[] ns;
            while (true)
            {
                attempts++;
                if (measure) before = probe(options.Threads, options.BandwidthSeconds);
                ns = Repeat(engine, test, options, rng, log, compiledMethods);
                if (!measure) break;
                after = probe(options.Threads, options.BandwidthSeconds);
                unstable = Disagree(before, after, options.BandwidthTolerance);
                log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{engine.Name} {test.Name}: read bandwidth {before / 1e9:F2} GB/s before, {after / 1e9:F2} GB/s after{(unstable ? " (differ; " + (attempts < options.MaxBandwidthAttempts ? "rerunning)" : "reporting flagged)") : "")}"));
                if (!unstable || attempts >= options.MaxBandwidthAttempts) break;
            }
            double[] ts = ns.Select(n => test.TimedTokens / (n / 1e9)).ToArray();
            var r = new BenchResult
            {
                Engine = engine.Name,
                ModelFilename = model.FileName,
                ModelType = model.ModelType,
                ModelSize = model.ModelSize,
                ModelNParams = model.ParamCount,
                NThreads = options.Threads,
                TypeK = KvName(options.KvType),
                TypeV = KvName(options.KvType),
                NPrompt = test.NPrompt,
                NGen = test.NGen,
                NDepth = test.Depth,
                Test = test.Name,
                TestTime = started,
                AvgNs = (long)Math.Round(ns.Average()),
                StddevNs = (long)Math.Round(StdDev(ns.Select(n => (double)n).ToArray())),
                AvgTs = ts.Average(),
                StddevTs = StdDev(ts),
                SamplesNs = ns,
                SamplesTs = ts,
            };
            if (test.IsGeneration)
            {
                double bpt = model.Footprint.BytesPerToken(TokenFootprint.MeanPositions(test.Depth, test.NGen));
                r = r with { BytesPerToken = bpt, EffectiveGbps = bpt * r.AvgTs / 1e9 };
                if (measure)
                {
                    var bound = Bound(bpt, r.AvgTs, before, after);
                    r = r with
                    {
                        BwBeforeGbps = before / 1e9,
                        BwAfterGbps = after / 1e9,
                        BoundTs = bound.BoundTs,
                        BoundFraction = bound.Fraction,
                        BwAttempts = attempts,
                        BwUnstable = unstable,
                    };
                }
            }
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{engine.Name} {test.Name}: {r.AvgTs:F2} ± {r.StddevTs:F2} t/s"));
            results.Add(r);
        }
        return results;
    }

    /// <summary>
    /// The bound a generation speed is judged against: at the mean of the two bandwidth readings (bytes/s), a token of
    /// <paramref name="bytesPerToken"/> bytes takes at least bytes/bandwidth seconds, so BoundTs = bandwidth/bytes and
    /// Fraction = <paramref name="tokensPerSecond"/>/BoundTs.
    /// </summary>
    public static (double BoundTs, double Fraction) Bound(double bytesPerToken, double tokensPerSecond, double bandwidthBefore, double bandwidthAfter)
    {
        double bw = (bandwidthBefore + bandwidthAfter) / 2;
        double boundTs = bw / bytesPerToken;
        return (boundTs, tokensPerSecond / boundTs);
    }

    /// <summary>True when the larger reading exceeds the smaller by more than <paramref name="tolerance"/> (relative).</summary>
    public static bool Disagree(double a, double b, double tolerance) => Math.Max(a, b) > Math.Min(a, b) * (1 + tolerance);

    /// <summary>llama-bench's cache type name.</summary>
    public static string KvName(KvCacheType t) => KvCacheTypes.Name(t);

    /// <summary>Sample standard deviation (n − 1); 0 for fewer than two values.</summary>
    public static double StdDev(IReadOnlyList<double> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Count < 2) return 0;
        double mean = x.Average();
        double s = 0;
        foreach (double v in x) s += (v - mean) * (v - mean);
        return Math.Sqrt(s / (x.Count - 1));
    }

    private static long[] Repeat(IBenchEngine engine, BenchTest test, BenchOptions o, Random rng, Action<string>? log,
        Func<long> compiledMethods)
    {
        int vocab = engine.VocabSize;
        int[] Tokens(int n)
        {
            var t = new int[n];
            for (int i = 0; i < n; i++) t[i] = rng.Next(vocab);
            return t;
        }
        long Once()
        {
            int[] depth = Tokens(test.Depth), prompt = Tokens(test.NPrompt), gen = Tokens(test.NGen);
            engine.Reset();
            if (depth.Length > 0) engine.Prefill(depth);
            long t0 = Stopwatch.GetTimestamp();
            if (prompt.Length > 0) engine.Prefill(prompt);
            foreach (int t in gen) engine.Decode(t);
            return Stopwatch.GetTimestamp() - t0;
        }
        for (int w = 1; ; w++)
        {
            long jit0 = compiledMethods();
            long elapsed = Once();
            long compiled = compiledMethods() - jit0;
            log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"[{1,3}/{o.Repetitions + 1}] {engine.Name} {test.Name} warm-up {w}: {elapsed * 1e3 / Stopwatch.Frequency:F1} ms ({compiled} methods compiled)"));
            if (compiled == 0 || w >= o.MaxWarmUps) break;
            Thread.Sleep(ExecutorWarmUp.TieringDelay);   // the runtime then counts calls towards re-optimising what the last warm-up ran
        }
        var ns = new long[o.Repetitions];
        for (int rep = 0; rep < o.Repetitions; rep++)
        {
            long elapsed = Once();
            ns[rep] = (long)(elapsed * (1e9 / Stopwatch.Frequency));
            log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"[{rep + 2,3}/{o.Repetitions + 1}] {engine.Name} {test.Name}: {elapsed * 1e3 / Stopwatch.Frequency:F1} ms"));
        }
        return ns;
    }
}
