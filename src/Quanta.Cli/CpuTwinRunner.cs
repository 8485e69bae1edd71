using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using Quanta.Bench;
using Quanta.Core.Diagnostics;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Engine.Serving;
using Quanta.Engine.Sampling;
using Quanta.Models.KvCache;
using Quanta.Planner.Catalogs;
using Quanta.Planner.Performance;

namespace Quanta.Cli;

/// <summary>Settings of one CPU-twin run (see <see cref="CpuTwinRunner"/>).</summary>
public sealed record CpuTwinOptions
{
    /// <summary>Threads of the engine and of every probe.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Prompt tokens of the pp test (llama-bench -p).</summary>
    public int Prompt { get; init; } = 512;

    /// <summary>Generated tokens of the tg test (llama-bench -n).</summary>
    public int Gen { get; init; } = 128;

    /// <summary>Timed repetitions of pp and tg (after one warm-up).</summary>
    public int Repetitions { get; init; } = 3;

    /// <summary>Concurrent streams of the serve waves.</summary>
    public IReadOnlyList<int> Streams { get; init; } = [4, 16];

    /// <summary>Prompt tokens of each serve request (random ids).</summary>
    public int ServePrompt { get; init; } = 128;

    /// <summary>Output tokens of each serve request (end-of-generation tokens are banned so every request runs to it).</summary>
    public int ServeOutput { get; init; } = 32;

    /// <summary>Waves of each concurrency (results are averaged over them).</summary>
    public int Waves { get; init; } = 2;

    /// <summary>Token budget of one engine step (the serving engine's MaxBatchTokens).</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>Seconds of each read-bandwidth measurement (one before and one after every measured quantity).</summary>
    public double BandwidthSeconds { get; init; } = 2.0;

    /// <summary>Relative difference of the readings before and after a measurement above which it is repeated.</summary>
    public double BandwidthTolerance { get; init; } = 0.10;

    /// <summary>Most runs of one measurement while its bracket readings (read bandwidth, the hot product rates at each m of <see cref="CpuTwinRunner.BracketM"/>, the streamed m = 1 rate) disagree (then it is reported unstable).</summary>
    public int MaxBandwidthAttempts { get; init; } = 3;

    /// <summary>Seconds of each dot-kernel rate measurement.</summary>
    public double KernelSeconds { get; init; } = 0.5;

    /// <summary>
    /// Share of a serve wave's wall time the JIT may spend compiling during it (all threads,
    /// <see cref="System.Runtime.JitInfo.GetCompilationTime"/>) before the wave is run again, and the share of a
    /// warm-up cycle's time below which the warm-up stops. The JIT compiles on a background thread, which on a machine
    /// with as many cores as engine threads takes a core from the pool and lengthens the wave by about its own time:
    /// 1% of the wave costs about 1% of TTFT and TPOT.
    /// </summary>
    public double JitTolerance { get; init; } = 0.01;

    /// <summary>Most runs of one serve wave while the JIT compiles more than <see cref="JitTolerance"/> of it (the last
    /// is kept and its JIT time reported), and most warm-up cycles.</summary>
    public int MaxJitAttempts { get; init; } = 3;

    /// <summary>Seed of the random prompts.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Throws <see cref="ArgumentException"/> on an out-of-range setting.</summary>
    public void Validate()
    {
        if (Threads < 1) throw new ArgumentException($"--threads must be at least 1, got {Threads}");
        if (Prompt < 1 || Gen < 1) throw new ArgumentException("--pp and --tg must be at least 1");
        if (Repetitions < 1) throw new ArgumentException("--repetitions must be at least 1");
        if (Streams.Count == 0 || Streams.Any(s => s < 1)) throw new ArgumentException("--streams needs positive counts");
        if (ServePrompt < 1 || ServeOutput < 2) throw new ArgumentException("--serve-prompt must be at least 1 and --serve-output at least 2");
        if (Waves < 1) throw new ArgumentException("--waves must be at least 1");
        if (MaxBatchTokens < 1) throw new ArgumentException("--max-batch-tokens must be at least 1");
        if (!(BandwidthSeconds > 0) || !(KernelSeconds > 0)) throw new ArgumentException("probe seconds must be positive");
        if (!(BandwidthTolerance >= 0) || MaxBandwidthAttempts < 1) throw new ArgumentException("the bandwidth tolerance must be >= 0 and the attempts at least 1");
        if (!(JitTolerance >= 0) || MaxJitAttempts < 1) throw new ArgumentException("the JIT tolerance must be >= 0 and the attempts at least 1");
    }
}

/// <summary>One compared quantity: what the twin predicted and what the engine measured in the same run.</summary>
/// <param name="Model">Model file name.</param>
/// <param name="Quantity">"pp512", "tg128", "ttft@4", "tpot@16", ...</param>
/// <param name="Unit">"tokens/s" or "ms".</param>
/// <param name="Predicted">The twin's prediction.</param>
/// <param name="Measured">The engine's measurement.</param>
public sealed record CpuTwinRow(string Model, string Quantity, string Unit, double Predicted, double Measured)
{
    /// <summary>The machine's state during the measurement: the read bandwidth before and after it, the attempts it
    /// took, and whether the twin had its weight products memory- or kernel-bound (empty: not known).</summary>
    public string State { get; init; } = "";

    /// <summary>Signed error in percent: 100 (predicted − measured) / measured.</summary>
    public double ErrorPercent => 100 * (Predicted - Measured) / Measured;
}

/// <summary>The read-bandwidth and kernel-rate readings taken immediately before and after one measurement (its last attempt).</summary>
/// <param name="Before">Bytes/s read before the measurement.</param>
/// <param name="After">Bytes/s read after it.</param>
/// <param name="Attempts">Runs of the measurement (more than one: earlier readings disagreed by more than the tolerance).</param>
/// <param name="Unstable">Whether the readings of the last attempt still disagreed.</param>
/// <param name="KernelBefore">The layers' hot product rate at m = 1 before the measurement, ops/s (0: not read).</param>
/// <param name="KernelAfter">The same after it.</param>
/// <param name="StreamedBefore">The layers' product rate at m = 1 on the model's weights streamed from memory before the
/// measurement, ops/s (0: not read).</param>
/// <param name="StreamedAfter">The same after it.</param>
public sealed record BandwidthBracket(double Before, double After, int Attempts, bool Unstable, double KernelBefore = 0, double KernelAfter = 0,
    double StreamedBefore = 0, double StreamedAfter = 0)
{
    /// <summary>The layers' hot product rates before the measurement at each m of <see cref="CpuTwinRunner.BracketM"/>
    /// (the first is <see cref="KernelBefore"/>); empty: read at m = 1 only.</summary>
    public IReadOnlyList<GemmRate> KernelsBefore { get; init; } = [];

    /// <summary>The same after it.</summary>
    public IReadOnlyList<GemmRate> KernelsAfter { get; init; } = [];

    /// <summary>Seconds the JIT spent compiling (all threads) during the kept serve waves of the measurement (NaN: not
    /// counted: pp and tg, whose benchmark runs its own warm-up repetitions).</summary>
    public double JitSeconds { get; init; } = double.NaN;

    /// <summary>Serve waves run again because the JIT compiled during them (see <see cref="JitSeconds"/>).</summary>
    public int JitRepeats { get; init; }

    /// <summary>The mean of the two streamed readings (0: not read).</summary>
    public double StreamedMean => (StreamedBefore + StreamedAfter) / 2;

    /// <summary>The bandwidth the measurement is predicted from: the mean of the two readings.</summary>
    public double Mean => (Before + After) / 2;

    /// <summary>The mean of the two kernel-rate readings (0: not read).</summary>
    public double KernelMean => (KernelBefore + KernelAfter) / 2;

    // " (m=16 330/325, m=256 300/301)": the bracket's kernel readings at its other m, GOP/s
    private string PerM() => KernelsBefore.Count < 2 || KernelsAfter.Count != KernelsBefore.Count ? ""
        : " (" + string.Join(", ", KernelsBefore.Skip(1).Select((g, i) => string.Create(CultureInfo.InvariantCulture,
            $"m={g.M} {g.OpsPerSecond / 1e9:F0}/{KernelsAfter[i + 1].OpsPerSecond / 1e9:F0}"))) + ")";

    /// <summary>"bw 35.2/35.9 GB/s, m=1 kernel 140/138 GOP/s (m=16 330/325, m=256 300/301), streamed 110/112 GOP/s", with the attempts and an unstable flag when there are any,
    /// and for serve waves ", jit 3.1 ms" (with the waves rerun, if any).</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"bw {Before / 1e9:F1}/{After / 1e9:F1} GB/s{(KernelMean > 0 ? $", m=1 kernel {KernelBefore / 1e9:F0}/{KernelAfter / 1e9:F0} GOP/s{PerM()}" : "")}{(StreamedMean > 0 ? $", streamed {StreamedBefore / 1e9:F0}/{StreamedAfter / 1e9:F0} GOP/s" : "")}{(Attempts > 1 ? $", {Attempts} tries" : "")}{(Unstable ? ", UNSTABLE" : "")}{(double.IsNaN(JitSeconds) ? "" : $", jit {JitSeconds * 1e3:0.#} ms{(JitRepeats > 0 ? $" ({JitRepeats} waves rerun)" : "")}")}");
}

/// <summary>Everything one model's twin run measured and predicted.</summary>
/// <param name="Model">Model file name.</param>
/// <param name="Machine">The CPU figures measured in this run (the twin's inputs).</param>
/// <param name="WeightBytes">Weight bytes a decode step reads (from the file).</param>
/// <param name="Rows">Predicted against measured quantities.</param>
/// <param name="Bandwidths">Every read-bandwidth reading of the run, bytes/s (their mean is the input).</param>
/// <param name="MatmulRates">Every reading of the weight dot-kernel rate, ops/s (their mean is the input).</param>
public sealed record CpuTwinReport(string Model, CpuMeasurements Machine, double WeightBytes, IReadOnlyList<CpuTwinRow> Rows, IReadOnlyList<double> Bandwidths,
    IReadOnlyList<double> MatmulRates)
{
    /// <summary>Every reading of the GEMM rates (one list per probe, rising m), ops/s; their per-m mean is the input.</summary>
    public IReadOnlyList<IReadOnlyList<GemmRate>> GemmReadings { get; init; } = [];

    /// <summary>Every reading of the attention kernel rate, ops/s (their mean is the input).</summary>
    public IReadOnlyList<double> AttentionRates { get; init; } = [];

    /// <summary>Every reading of the attention kernel rate on 4-row blocks (prefill), ops/s.</summary>
    public IReadOnlyList<double> PrefillAttentionRates { get; init; } = [];

    /// <summary>Every reading of the attention rate of one row over the serving engine's paged cache, ops/s.</summary>
    public IReadOnlyList<double> PagedAttentionRates { get; init; } = [];

    /// <summary>Every reading of the attention rate on 4-row blocks over the paged cache, ops/s.</summary>
    public IReadOnlyList<double> PagedPrefillAttentionRates { get; init; } = [];

    /// <summary>Every reading of the output head's GEMM rates (empty when the head is probed with the layers).</summary>
    public IReadOnlyList<IReadOnlyList<GemmRate>> HeadGemmReadings { get; init; } = [];

    /// <summary>The serving engine's steps of each serve wave (streams, wave index, steps), recorded by <see cref="StepRecorder"/>.</summary>
    public IReadOnlyList<(int Streams, int Wave, IReadOnlyList<RecordedStep> Steps)> RecordedWaves { get; init; } = [];

    /// <summary>The run as the fit needs it (model, machine figures, workloads, measured values); null when not kept.</summary>
    public CpuTwinObservation? Observation { get; init; }

    /// <summary>The rows re-predicted from this run's machine figures under <paramref name="eff"/>.</summary>
    public IReadOnlyList<CpuTwinRow> Repredict(EfficiencyParameters eff)
    {
        var obs = Observation ?? throw new InvalidOperationException($"{Model}: the report keeps no observation to re-predict from");
        return obs.Predict(eff).Select(x =>
        {
            var row = Rows.First(r => r.Quantity == x.Quantity);
            string state = row.State.Length == 0 ? "" : row.State[..row.State.LastIndexOf(", ", StringComparison.Ordinal)] + ", " + obs.BoundOf(eff, x.Quantity);
            return new CpuTwinRow(Model, x.Quantity, row.Unit, x.Predicted, x.Measured) { State = state };
        }).ToList();
    }
}

/// <summary>
/// The CPU twin run: for a GGUF model, in one process and one run, (1) measures this machine — read bandwidth
/// (<see cref="MemoryBandwidth"/>, immediately before and after each measured quantity: pp, tg, each concurrency's serve
/// waves; a measurement whose two readings differ by more than the tolerance is repeated, a bounded number of times, and
/// each quantity is predicted from its own readings) and, before the benchmarks, after them and after the serve waves
/// (<see cref="CpuProbe"/>): the engine's matrix product at several m on the model's own matrices, hot (the kernels' own
/// rate, <see cref="ModelGemmProbe"/>; the step model bounds it by bytes / bandwidth), for the layers and the head, and its attention kernel on decode rows (over a working set the size of the phase's KV
/// cache) and on prefill blocks, over the contiguous cache of the benchmarks and the paged cache of the serving engine;
/// each phase is predicted from the readings that bracket it; (2) measures the engine — llama-bench pp and tg
/// (<see cref="BenchRunner"/>) and waves of concurrent requests through the <see cref="ServingEngine"/> (continuous
/// batching scheduler and CPU executor in process), timing each request's first token and its later tokens and
/// recording every engine step (<see cref="StepRecorder"/>: its shape, the executor's time, the loop's time between
/// executor calls, from which the loop's cost outside the executor is measured);
/// (3) predicts the same quantities with <see cref="CpuTwin"/> from the measured machine figures and the fitted CPU
/// efficiency parameters, and reports predicted against measured.
/// </summary>
public static class CpuTwinRunner
{
    /// <summary>The m at which every bracket reads the layers' hot product rate: a one-token decode, a 16-token batched
    /// decode, a budget-sized prefill chunk (each among <see cref="CpuProbe.DefaultGemmM"/>, which the phase probes read).</summary>
    public static IReadOnlyList<int> BracketM { get; } = [1, 16, 256];

    /// <summary>Runs the twin for the model at <paramref name="path"/>; <paramref name="log"/> gets progress lines.</summary>
    public static CpuTwinReport Run(string path, CpuTwinOptions o, EfficiencyParameters eff, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(eff);
        o.Validate();
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        string name = Path.GetFileName(path);
        var kv = KvCacheType.F16;
        var info = BenchModelInfo.FromGguf(path, kv);
        var spec = ModelCatalog.FromFile(path);
        double weightBytes = info.Footprint.WeightBytes;

        // Kernel rates, like the bandwidth, are read at several points of the run and averaged (a shared machine's
        // speed drifts from minute to minute): before the benchmarks, after them, after the serve waves.
        var matmulRates = new List<double>();
        var fp32Rates = new List<double>();
        var gemmReadings = new List<IReadOnlyList<GemmRate>>();
        var attentionRates = new List<double>();
        var prefillAttentionRates = new List<double>();
        var headReadings = new List<IReadOnlyList<GemmRate>>();
        // the output head's bytes (Q6_K in files quantized like llama-quantize's): a prefill chunk runs it for one row only
        var headMatrix = CpuProbe.HeadMatrix(path);
        int attentionLength = Math.Max(16, o.ServePrompt + o.ServeOutput / 2);   // a serve wave's typical context
        int prefillAttentionLength = Math.Max(CausalAttention.RowBlock, o.Prompt / 2);   // a pp prompt's mean depth
        int servePrefillLength = Math.Max(CausalAttention.RowBlock, o.ServePrompt / 2);  // a serve prompt's mean depth
        int benchDecodeLength = Math.Max(16, o.Gen / 2);                                  // a tg run's mean depth
        var pagedAttentionRates = new List<double>();
        var pagedPrefillAttentionRates = new List<double>();
        void Rates()
        {
            log?.Invoke($"{name}: kernel rates ({o.Threads} threads): dot, GEMM at m = {string.Join(", ", CpuProbe.DefaultGemmM)}, attention");
            matmulRates.Add(MatmulRate(path, o.Threads, o.KernelSeconds));
            fp32Rates.Add(KernelRate(KernelRegistry.VecDot(WeightFormat.F32), o.Threads, o.KernelSeconds));
            // the model's own matrices, layer after layer and then the head, in the groups a step runs them (ModelGemmProbe)
            // the run's first probe is thrown away: it makes every m's code hot, and its readings met the JIT's background
            // compilation of what it had just made hot on the same cores (a 160M first reading of 2.8 GOP/s at m = 1
            // where the later ones gave 29-31)
            // hot: the kernels' own rates on the model's own matrices, the weights' memory traffic left out; the step
            // model bounds each product by the bandwidth read around the measurement it predicts (a roofline), so a
            // change of the machine's bandwidth state between the probe and a measurement does not carry over
            if (gemmReadings.Count == 0) ModelGemmProbe.Measure(path, CpuProbe.DefaultGemmM, o.Threads, o.KernelSeconds / 2, hot: true);
            var gemm = ModelGemmProbe.Measure(path, CpuProbe.DefaultGemmM, o.Threads, o.KernelSeconds / 2, hot: true);
            gemmReadings.Add(gemm.Layers);
            if (gemm.Head.Count > 0) headReadings.Add(gemm.Head);
            // the benchmark session attends over a contiguous cache, the serving engine over its paged one: each phase
            // is predicted from the kernel as it runs there (decode rows at a serve wave's typical context, prefill
            // blocks at a pp prompt's mean depth for the benchmark and at a serve prompt's for the serving engine)
            // decode rows read their keys and values from a working set the size of the run's cache: the benchmark's one
            // sequence over every layer, a serve wave's many sequences (beyond the caches: the rows wait on memory)
            attentionRates.Add(CpuProbe.AttentionRate(spec.Heads, spec.KvHeads, spec.HeadDim, benchDecodeLength, o.Threads, o.KernelSeconds / 2,
                layers: spec.Layers));
            prefillAttentionRates.Add(CpuProbe.AttentionRate(spec.Heads, spec.KvHeads, spec.HeadDim, prefillAttentionLength, o.Threads, o.KernelSeconds / 2,
                rows: CausalAttention.RowBlock));
            pagedAttentionRates.Add(CpuProbe.AttentionRate(spec.Heads, spec.KvHeads, spec.HeadDim, attentionLength, o.Threads, o.KernelSeconds / 2, paged: true,
                sequences: o.Streams.Max(), layers: spec.Layers));
            pagedPrefillAttentionRates.Add(CpuProbe.AttentionRate(spec.Heads, spec.KvHeads, spec.HeadDim, servePrefillLength, o.Threads, o.KernelSeconds / 2,
                rows: CausalAttention.RowBlock, paged: true));
        }
        Rates();

        // Every measured quantity is bracketed by a read-bandwidth reading, readings of the layers' hot product rate at
        // each m of BracketM and one of the m = 1 products streamed from memory, immediately before and after it, and is predicted from
        // their means; when any pair differs by more than the tolerance (this machine's bandwidth switches by itself
        // between states ~35% apart from minute to minute) the measurement is run again, a bounded number of times.
        var bandwidths = new List<double>();
        var brackets = new Dictionary<string, BandwidthBracket>();
        // at several m: a core that runs faster or slower around a measurement does not do so by the same factor at every m
        // (CpuTwinObservation.KernelScalesAt); each m is part of the stability test
        IReadOnlyList<GemmRate> Kernels() => ModelGemmProbe.Measure(path, BracketM, o.Threads, o.KernelSeconds / 2, headMaxM: 0, hot: true).Layers;
        // the same one-token products on weights streamed from memory (layer after layer, as a decode reads them): with the
        // bandwidth and the hot rate of the same bracket it gives how much of the shorter roofline limit the core fails to
        // hide (CpuStepModel.Overlap). Part of the stability test too: a decode streams its weights the way this probe
        // does, and the state can switch between the two-second read tests without moving them (a 1B tg128 bracket read
        // 33.3 / 32.8 GB/s and a hot rate of 160 / 160 GOP/s around a fast-state decode rate, the streamed probe 160 / 109)
        double Streamed1() => ModelGemmProbe.Measure(path, [1], o.Threads, o.KernelSeconds / 2, headMaxM: 0, hot: false).Layers[0].OpsPerSecond;
        bool Differ(double a, double b) => BenchRunner.Disagree(a, b, o.BandwidthTolerance);   // the test `quanta bench` applies
        static string LargerM(IReadOnlyList<GemmRate> before, IReadOnlyList<GemmRate> after)
        {
            var sb = new StringBuilder();
            for (int i = 1; i < before.Count && i < after.Count; i++)
                sb.Append(CultureInfo.InvariantCulture, $"{(i == 1 ? " (" : ", ")}m = {before[i].M} {before[i].OpsPerSecond / 1e9:F0} / {after[i].OpsPerSecond / 1e9:F0}");
            return sb.Length > 0 ? sb.Append(')').ToString() : "";
        }
        T Bracketed<T>(string what, Func<T> measure)
        {
            for (int attempt = 1; ; attempt++)
            {
                double before = MemoryBandwidth.MeasureRead(o.Threads, o.BandwidthSeconds).BytesPerSecond;
                double streamedBefore = Streamed1();
                var kernelsBefore = Kernels();
                T value = measure();
                var kernelsAfter = Kernels();
                double kernelBefore = kernelsBefore[0].OpsPerSecond, kernelAfter = kernelsAfter[0].OpsPerSecond;
                double streamedAfter = Streamed1();
                double after = MemoryBandwidth.MeasureRead(o.Threads, o.BandwidthSeconds).BytesPerSecond;
                bandwidths.Add(before);
                bandwidths.Add(after);
                // every m of the bracket: the core's placement can change the large-m rates while m = 1 stays (a 1B 4-stream
                // wave read m = 1 at 162 / 172, m = 16 at 255 / 342 and m = 256 at 226 / 385 GOP/s, and missed by +29.5%)
                bool kernelsDiffer = false;
                for (int i = 0; i < kernelsBefore.Count && i < kernelsAfter.Count; i++)
                    kernelsDiffer |= Differ(kernelsBefore[i].OpsPerSecond, kernelsAfter[i].OpsPerSecond);
                bool unstable = Differ(before, after) || kernelsDiffer || Differ(streamedBefore, streamedAfter);
                log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{name} {what}: read bandwidth {before / 1e9:F2} GB/s before, {after / 1e9:F2} GB/s after; m = 1 kernel {kernelBefore / 1e9:F1} / {kernelAfter / 1e9:F1} GOP/s{LargerM(kernelsBefore, kernelsAfter)}, streamed {streamedBefore / 1e9:F1} / {streamedAfter / 1e9:F1} GOP/s{(unstable ? " (differ; " + (attempt < o.MaxBandwidthAttempts ? "repeating)" : "reporting it unstable)") : "")}"));
                if (!unstable || attempt >= o.MaxBandwidthAttempts)
                {
                    brackets[what] = new BandwidthBracket(before, after, attempt, unstable, kernelBefore, kernelAfter, streamedBefore, streamedAfter)
                    {
                        KernelsBefore = kernelsBefore, KernelsAfter = kernelsAfter,
                    };
                    return value;
                }
            }
        }

        var bench = new BenchOptions
        {
            Prompt = o.Prompt, Gen = o.Gen, Repetitions = o.Repetitions, Threads = o.Threads, KvType = kv,
            BandwidthSeconds = 0, Seed = o.Seed,   // the twin brackets every test itself, pp included
        };
        BenchResult pp, tg;
        using (var engine = new QuantaBenchEngine(path, o.Threads, bench.ContextNeeded, kv, bench.MicroBatch))
        {
            pp = Bracketed($"pp{o.Prompt}", () => BenchRunner.Run(engine, info, bench with { Gen = 0 }, log).Single());
            tg = Bracketed($"tg{o.Gen}", () => BenchRunner.Run(engine, info, bench with { Prompt = 0 }, log).Single());
        }
        Rates();

        var waves = new List<(int Streams, double Ttft, double Tpot)>();
        var arrivals = new Dictionary<int, IReadOnlyList<double>>();
        var recorded = new List<(int Streams, int Wave, IReadOnlyList<RecordedStep> Steps)>();
        StepRecorder? recorder = null;
        using (var serving = ServingEngine.Load("twin", path, new ServingOptions
        {
            Threads = o.Threads, KvCacheType = kv, ContextLength = o.ServePrompt + o.ServeOutput + 16,
            MaxBatchTokens = o.MaxBatchTokens, MaxRunning = o.Streams.Max(), MaxQueue = o.Streams.Max(),
            WrapExecutor = inner => recorder = new StepRecorder(inner),
        }))
        {
            var rng = new Random(o.Seed);
            var sampling = Sampling(serving, o.ServeOutput);
            // warm-up (JIT, pools): waves of batched decodes over the paged cache and prefill chunks beside decodes, until
            // the JIT has promoted the serving-only paths (the benchmarks ran none of them) to optimized code: at least two
            // waves, then until two successive waves' decode steps took the same time (within 10%), at most 6. A single
            // short request left the first timed wave's steps running on tier-0 code (2.3x slower decode steps).
            int warmStreams = Math.Min(4, o.Streams.Max()), warmOutput = Math.Min(16, o.ServeOutput);
            double previous = double.NaN;
            for (int i = 0; i < 6; i++)
            {
                recorder!.Mark();
                RunWave(serving, warmStreams, Math.Min(32, o.ServePrompt), warmOutput, sampling with { MaxTokens = warmOutput }, rng);
                var decodes = recorder.Take().Where(s => s.Shape.PrefillTokens == 0).Select(s => s.ExecuteSeconds).ToList();
                double mean = decodes.Count > 0 ? decodes.Average() : double.NaN;
                if (i >= 1 && Math.Abs(mean - previous) <= 0.1 * Math.Max(mean, previous)) break;
                previous = mean;
            }
            // then cycles of the timed waves themselves (each concurrency, full prompts and outputs) until the JIT compiles
            // under the tolerance of a cycle's time, at most MaxJitAttempts cycles: the short waves above leave the
            // timed waves' own shapes (chunks of full prompts beside decodes, the budget-sized steps, decodes of 16
            // rows) and the loop's rarer paths on tier-0 or instrumented code, and the JIT promoted them in the middle
            // of the first timed wave: ~80 methods, ~100 ms of compilation on one of the two cores in the 160M 4-stream
            // wave's decode steps, a run of 4-13 of its 31 decode steps at 2-2.7x their time (TPOT@4 measured 19-22%
            // above the twin in every run; 2026-11-27, docs/perf-notes twin4)
            for (int cycle = 1; ; cycle++)
            {
                TimeSpan jit0 = JitInfo.GetCompilationTime(false);
                long t0 = Stopwatch.GetTimestamp();
                foreach (int streams in o.Streams) RunWave(serving, streams, o.ServePrompt, o.ServeOutput, sampling, rng);
                double jit = (JitInfo.GetCompilationTime(false) - jit0).TotalSeconds, wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{name} serve warm-up cycle {cycle}: {wall * 1e3:F0} ms, JIT {jit * 1e3:F1} ms"));
                if (jit <= o.JitTolerance * wall || cycle >= o.MaxJitAttempts) break;
            }
            foreach (int streams in o.Streams)
            {
                double jitKept = 0;
                int jitRepeats = 0;
                var (ttft, tpot, submitted, steps) = Bracketed($"serve@{streams}", () =>
                {
                    double ttft = 0, tpot = 0;
                    var submitted = new double[streams];
                    var steps = new List<(int, int, IReadOnlyList<RecordedStep>)>();
                    jitKept = 0;
                    jitRepeats = 0;
                    for (int w = 0; w < o.Waves; w++)
                    {
                        // a wave during which the JIT compiled more than the tolerance of its time is run again (it ran
                        // with a core taken by the compiler); the last try is kept and its compilation time reported
                        for (int attempt = 1; ; attempt++)
                        {
                            recorder!.Mark();
                            TimeSpan jit0 = JitInfo.GetCompilationTime(false);
                            long t0 = Stopwatch.GetTimestamp();
                            var (t1, t2, at) = RunWave(serving, streams, o.ServePrompt, o.ServeOutput, sampling, rng);
                            double jit = (JitInfo.GetCompilationTime(false) - jit0).TotalSeconds, wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                            bool compiled = jit > o.JitTolerance * wall;
                            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{name} serve {streams} streams, wave {w + 1}/{o.Waves}: TTFT {t1 * 1e3:F1} ms, TPOT {t2 * 1e3:F1} ms (submitted over {at[^1] * 1e3:F2} ms), JIT {jit * 1e3:F1} ms{(compiled ? (attempt < o.MaxJitAttempts ? " (over the tolerance; rerunning)" : " (over the tolerance; kept)") : "")}"));
                            if (compiled && attempt < o.MaxJitAttempts) { jitRepeats++; continue; }
                            steps.Add((streams, w, recorder.Take()));
                            ttft += t1 / o.Waves;
                            tpot += t2 / o.Waves;
                            for (int i = 0; i < streams; i++) submitted[i] += at[i] / o.Waves;
                            jitKept += jit;
                            break;
                        }
                    }
                    return (ttft, tpot, submitted, steps);
                });
                brackets[$"serve@{streams}"] = brackets[$"serve@{streams}"] with { JitSeconds = jitKept, JitRepeats = jitRepeats };
                recorded.AddRange(steps);
                waves.Add((streams, ttft, tpot));
                arrivals[streams] = submitted;
            }
        }
        Rates();

        // The run's mean figures (reported), and per phase the kernel-rate readings that bracket it: the benchmarks
        // (readings 0 and 1) and the serve waves (readings 1 and 2); the bandwidth of each quantity is its own bracket's
        // (CpuTwinObservation.Bandwidths).
        var (loopStep, loopRow) = CpuMeasurements.LoopCost(recorded.Select(r => r.Steps));
        CpuMeasurements Figures(int first, int last, bool serving) => new(bandwidths.Average(), matmulRates[first..(last + 1)].Average(),
            fp32Rates[first..(last + 1)].Average(), o.Threads)
        {
            GemmRates = CpuProbe.DefaultGemmM.Select((m, k) => new GemmRate(m, gemmReadings[first..(last + 1)].Average(r => r[k].OpsPerSecond))).ToList(),
            HeadGemmRates = headReadings.Count == 0 ? []
                : headReadings[0].Select((g, k) => new GemmRate(g.M, headReadings[first..(last + 1)].Average(r => r[k].OpsPerSecond))).ToList(),
            GemmRatesStreamWeights = false,
            AttentionOpsPerSecond = (serving ? pagedAttentionRates : attentionRates)[first..(last + 1)].Average(),
            PrefillAttentionOpsPerSecond = (serving ? pagedPrefillAttentionRates : prefillAttentionRates)[first..(last + 1)].Average(),
            LoopStepSeconds = loopStep,
            LoopRowSeconds = loopRow,
        };
        var machine = Figures(0, 2, serving: false);
        var workload = new CpuTwinWorkload(o.Prompt, o.Gen, bench.MicroBatch, o.ServePrompt, o.ServeOutput, o.MaxBatchTokens, o.Streams.Max())
        {
            Arrivals = arrivals,
        };
        var measured = new List<KeyValuePair<string, double>> { new(pp.Test, pp.AvgTs), new(tg.Test, tg.AvgTs) };
        var quantityBracket = new Dictionary<string, BandwidthBracket> { [pp.Test] = brackets[$"pp{o.Prompt}"], [tg.Test] = brackets[$"tg{o.Gen}"] };
        foreach (var (streams, ttft, tpot) in waves)
        {
            measured.Add(new($"ttft@{streams}", ttft * 1e3));
            measured.Add(new($"tpot@{streams}", tpot * 1e3));
            foreach (string q in (string[])[$"ttft@{streams}", $"tpot@{streams}"]) quantityBracket[q] = brackets[$"serve@{streams}"];
        }
        // the kernel readings of a bracket scale its phase's probed m = 1 rates (probed at every m at the phase's ends):
        // the ratio of the bracket's m = 1 rate to the phase readings' m = 1 rate (CpuTwinObservation.KernelScales)
        double PhaseKernel(int first, int last) => gemmReadings[first..(last + 1)].Average(r => r[0].OpsPerSecond);
        var kernelScale = quantityBracket.ToDictionary(kv => kv.Key,
            kv => kv.Value.KernelMean / (kv.Key.Contains('@', StringComparison.Ordinal) ? PhaseKernel(1, 2) : PhaseKernel(0, 1)));
        // and at each m of the bracket, to the phase readings' rate at that m (CpuTwinObservation.KernelScalesAt)
        double PhaseKernelAt(int first, int last, int m) => gemmReadings[first..(last + 1)].Average(r => r.Single(g => g.M == m).OpsPerSecond);
        var kernelScaleAt = quantityBracket.Where(kv => kv.Value.KernelsBefore.Count > 0 && kv.Value.KernelsAfter.Count == kv.Value.KernelsBefore.Count)
            .ToDictionary(kv => kv.Key, kv => (IReadOnlyList<CpuTwinObservation.KernelScale>)kv.Value.KernelsBefore.Select((g, i) =>
            {
                bool serve = kv.Key.Contains('@', StringComparison.Ordinal);
                double phase = serve ? PhaseKernelAt(1, 2, g.M) : PhaseKernelAt(0, 1, g.M);
                return new CpuTwinObservation.KernelScale(g.M, (g.OpsPerSecond + kv.Value.KernelsAfter[i].OpsPerSecond) / 2 / phase);
            }).ToList());
        var observation = new CpuTwinObservation(name, spec, weightBytes, PrecisionOf(kv), Figures(0, 1, serving: false), workload, measured)
        {
            ServeMachine = Figures(1, 2, serving: true), HeadBytes = headMatrix?.Bytes ?? 0,
            ServeSteps = recorded.Select(r => new CpuTwinObservation.WaveSteps(r.Streams, r.Steps)).ToList(),
            Bandwidths = quantityBracket.ToDictionary(kv => kv.Key, kv => kv.Value.Mean),
            KernelScales = kernelScale,
            KernelScalesAt = kernelScaleAt,
            StreamedRates = quantityBracket.ToDictionary(kv => kv.Key, kv => kv.Value.StreamedMean),
            JitSeconds = quantityBracket.Where(kv => !double.IsNaN(kv.Value.JitSeconds)).ToDictionary(kv => kv.Key, kv => kv.Value.JitSeconds),
        };
        var rows = observation.Predict(eff)
            .Select(x => new CpuTwinRow(name, x.Quantity, UnitOf(x.Quantity), x.Predicted, x.Measured)
            {
                State = quantityBracket[x.Quantity].Describe() + ", " + observation.BoundOf(eff, x.Quantity),
            })
            .ToList();
        return new CpuTwinReport(name, machine, weightBytes, rows, bandwidths, matmulRates)
        {
            GemmReadings = gemmReadings, AttentionRates = attentionRates, PrefillAttentionRates = prefillAttentionRates, HeadGemmReadings = headReadings,
            PagedAttentionRates = pagedAttentionRates, PagedPrefillAttentionRates = pagedPrefillAttentionRates,
            Observation = observation, RecordedWaves = recorded,
        };
    }

    /// <summary>"ms" for TTFT and TPOT, "tokens/s" for pp and tg.</summary>
    internal static string UnitOf(string quantity) =>
        quantity.StartsWith("t", StringComparison.Ordinal) && quantity.Contains('@', StringComparison.Ordinal) ? "ms" : "tokens/s";

    private static Precision PrecisionOf(KvCacheType kv) => kv switch
    {
        KvCacheType.F16 => Precision.Fp16,
        KvCacheType.Q8_0 => Precision.Int8,
        _ => Precision.Fp32,
    };

    private static SamplingParameters Sampling(ServingEngine serving, int output)
    {
        var bias = new Dictionary<int, float>();
        for (int t = 0; t < serving.Model.Tokenizer.VocabSize; t++)
            if (serving.Model.IsEndOfGeneration(t)) bias[t] = -100f;   // banned: every request runs to its length
        return new SamplingParameters { Temperature = 0, MaxTokens = output, LogitBias = bias };
    }

    /// <summary>
    /// Submits <paramref name="streams"/> requests one after another; returns mean TTFT and mean TPOT in seconds and
    /// when each Submit returned (the request is in the engine's queue), seconds after the wave's start.
    /// </summary>
    private static (double Ttft, double Tpot, double[] Submitted) RunWave(ServingEngine serving, int streams, int prompt, int output, SamplingParameters sampling, Random rng)
    {
        int vocab = serving.Model.Tokenizer.VocabSize;
        var prompts = new int[streams][];
        for (int i = 0; i < streams; i++)
        {
            prompts[i] = new int[prompt];
            for (int t = 0; t < prompt; t++) prompts[i][t] = rng.Next(3, vocab);
        }
        var tasks = new Task<(double, double, int)>[streams];
        var submitted = new double[streams];
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < streams; i++)
        {
            var call = serving.Submit(new ServingRequest { Prompt = prompts[i], Sampling = sampling });
            submitted[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            tasks[i] = Consume(call, start);
        }
        Task.WaitAll(tasks);
        double ttft = 0, tpot = 0;
        foreach (var t in tasks)
        {
            var (first, last, n) = t.Result;
            if (n != sampling.MaxTokens) throw new InvalidOperationException($"a request produced {n} tokens instead of {sampling.MaxTokens}");
            ttft += first / streams;
            tpot += (n > 1 ? (last - first) / (n - 1) : 0) / streams;
        }
        return (ttft, tpot, submitted);
    }

    private static async Task<(double First, double Last, int Tokens)> Consume(ServingCall call, long start)
    {
        double first = 0, last = 0;
        int n = 0;
        await foreach (var d in call.ReadAllAsync().ConfigureAwait(false))
        {
            if (d.Token < 0) continue;
            double t = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (n == 0) first = t;
            last = t;
            n++;
        }
        return (first, last, n);
    }

    /// <summary>
    /// The model's matrix-product rate: each weight matrix's dot kernel measured on cache-resident data, combined as
    /// total ops / Σ(ops of the matrices of that kernel / its rate), ops counted 2 per weight (one decode token).
    /// </summary>
    public static double MatmulRate(string path, int threads, double seconds)
    {
        using var file = GgufFile.Open(path);
        bool tied = !file.TryGetTensor("output.weight", out _);
        var elements = new Dictionary<WeightFormat, double>();
        foreach (var t in file.Tensors)
        {
            if (t.Rank < 2 || (t.Name == "token_embd.weight" && !tied)) continue;
            if (!CodecRegistry.TryGetWeightFormat(t.Type, out var f)) continue;
            elements[f] = elements.GetValueOrDefault(f) + t.ElementCount;
        }
        if (elements.Count == 0) throw new InvalidDataException($"{path}: no weight matrices in a format the dot kernels read");
        double ops = 0, time = 0;
        foreach (var (f, n) in elements)
        {
            double rate = KernelRate(KernelRegistry.VecDot(f), threads, seconds);
            ops += 2 * n;
            time += 2 * n / rate;
        }
        return ops / time;
    }

    /// <summary>
    /// Ops/s (2 per multiply-add) of <paramref name="kernel"/> on <paramref name="threads"/> threads, each running dots
    /// of its own 32 weight rows of 2,048 elements against 8 activation rows (all in cache): first untimed for about
    /// <paramref name="seconds"/> s (so the JIT has promoted the kernel to optimized code, as in a long engine run),
    /// then timed for about <paramref name="seconds"/> s.
    /// </summary>
    public static double KernelRate(IVecDotKernel kernel, int threads, double seconds)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        const int n = 2048, rows = 32, acts = 8;
        long[] dots = new long[threads];
        var warm = new Barrier(threads + 1);
        var go = new Barrier(threads + 1);
        var sw = new Stopwatch();
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                int wb = checked((int)kernel.WeightRowBytes(n)), ab = kernel.ActivationRowBytes(n);
                byte[] w = new byte[wb * rows];   // zero weights: a valid row in every format (scale 0), no subnormals
                byte[] a = new byte[ab * acts];
                var rng = new Random(id + 1);
                float[] x = new float[n];
                for (int i = 0; i < acts; i++)
                {
                    for (int j = 0; j < n; j++) x[j] = (float)(rng.NextDouble() * 2 - 1);
                    kernel.QuantizeActivation(x, a.AsSpan(i * ab, ab));
                }
                float sink = 0;
                var warmClock = Stopwatch.StartNew();
                while (warmClock.Elapsed.TotalSeconds < seconds) sink += Sweep(kernel, w, wb, a, ab, rows, acts, n);
                warm.SignalAndWait();
                go.SignalAndWait();
                long count = 0;
                while (sw.Elapsed.TotalSeconds < seconds)
                {
                    sink += Sweep(kernel, w, wb, a, ab, rows, acts, n);
                    count += rows * acts;
                }
                dots[id] = count + (sink == 123.456f ? 1 : 0);
            }) { IsBackground = true };
            workers[t].Start();
        }
        warm.SignalAndWait();
        sw.Start();
        go.SignalAndWait();
        foreach (var w in workers) w.Join();
        double elapsed = sw.Elapsed.TotalSeconds;
        return dots.Sum() * 2.0 * n / elapsed;
    }

    private static float Sweep(IVecDotKernel kernel, byte[] w, int wb, byte[] a, int ab, int rows, int acts, int n)
    {
        float sum = 0;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < acts; i++)
                sum += kernel.Dot(w.AsSpan(r * wb, wb), a.AsSpan(i * ab, ab), n);
        return sum;
    }

    /// <summary>
    /// Fits the CPU efficiency parameters (<see cref="CpuTwinFit"/>) on the rows of <paramref name="reports"/>, each
    /// predicted from its own run's machine figures.
    /// </summary>
    public static EfficiencyParameters Fit(IReadOnlyList<CpuTwinReport> reports, EfficiencyParameters start)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var runs = reports.Select(r => r.Observation ?? throw new ArgumentException($"{r.Model}: the report keeps no observation to fit on", nameof(reports))).ToList();
        return CpuTwinFit.Fit(runs, start) with
        {
            RefitWith = "quanta plan twin --shape 160m,llama-3.2-1b --type q4_0 -t 2 -r 3 --waves 1 --fit-out efficiency-cpu.json --fit-on Q4_0",
        };
    }
}
