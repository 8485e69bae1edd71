using System.Diagnostics;
using Quanta.Cuda.Device;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Energy;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Models;
using Quanta.Models.KvCache;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// The issue's GPU benchmarks on random weights generated on the device (<see cref="GpuModelWeights.Random"/>), driving
/// <see cref="GpuExecutor"/> directly with engine sequences: per weight format, decode at batch 1 (time per token and the
/// fraction of the HBM bound: bytes read per step = weights + KV read, over the measured copy bandwidth), decode at batch
/// 64 (tokens/s), and prefill of one prompt (FLOP/s as a fraction of the tensor-core peak, counting 2·params·tokens for
/// the matrix products plus the attention's 4·tokens²/2·Heads·HeadDim per layer); NVML joules per token over each run
/// when an energy source is given.
/// </summary>
public static class DeviceBenchmarks
{
    /// <summary>Benchmark sizes.</summary>
    /// <param name="EnergySteps">Batch-1 decode steps of the energy window (NVML's counter moves in coarse steps, so
    /// joules per token come from a window of seconds, not from the 32 timed steps).</param>
    /// <param name="EnergyBatchSteps">Batch decode steps of the energy window.</param>
    /// <param name="EnergyPrefills">Prefills of the energy window.</param>
    public sealed record Options(ModelConfig Model, int DecodeContext, int DecodeSteps, int Batch, int BatchPrompt, int PrefillTokens, int WarmupSteps,
        int EnergySteps = 300, int EnergyBatchSteps = 150, int EnergyPrefills = 25)
    {
        /// <summary>The issue's settings on the Llama-3.1-8B shape.</summary>
        public static Options Issue { get; } = new(RandomDecoderModel.Llama31_8B(), 512, 32, 64, 128, 2048, 3);
    }

    /// <summary>Runs every benchmark for <paramref name="format"/>; <paramref name="hbmBytesPerSecond"/> (0: unknown) is the bound.</summary>
    public static IReadOnlyList<BenchFigure> Run(GpuBackend backend, Options o, DeviceFormat format, double hbmBytesPerSecond, IPowerSource? power,
        string deviceName, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(o);
        ModelConfig c = o.Model;
        string f = format.ToString().ToLowerInvariant();
        var figures = new List<BenchFigure>();
        log?.Invoke($"{f}: generating random {c.Layers}-layer weights on the device");
        using var weights = GpuModelWeights.Random(backend, c, new GpuWeightOptions(format), 12345);
        int bs = 16;
        int maxLen = Math.Max(o.PrefillTokens, Math.Max(o.DecodeContext + o.DecodeSteps + o.WarmupSteps, o.BatchPrompt + o.DecodeSteps + o.WarmupSteps)) + bs;
        int blocksPerSeq = (maxLen + bs - 1) / bs;
        int numBlocks = 1 + o.Batch * ((o.BatchPrompt + o.DecodeSteps + o.WarmupSteps + o.EnergyBatchSteps + bs) / bs + 1) + 2 * blocksPerSeq;
        if (o.DecodeContext + o.WarmupSteps * 3 + o.DecodeSteps * 3 + o.EnergySteps >= maxLen)
            throw new ArgumentException("the batch-1 decode and its energy window do not fit the positions", nameof(o));
        var cache = PagedKvCache.For(c, numBlocks, bs, maxLen, KvCacheType.F16);
        int maxTokens = Math.Max(o.PrefillTokens, o.Batch);
        using var ex = new GpuExecutor(backend, weights, cache, maxTokens, o.Batch, maxLen, power);
        long matrixParams = MatrixParameters(c);
        double weightBytes = weights.Bytes;
        figures.Add(new($"{f}/weights", weightBytes / 1e9, "GB", $"{c.Layers} layers, {matrixParams / 1e9:F2} B matrix parameters"));

        // decode, batch 1: plain launches, then CUDA graph replay (the same sequence continues)
        Phase(figures, $"{f}/decode-b1", log, () =>
        {
            var rng = new Random(1);
            using var seq = cache.CreateSequence([1], false);
            int pos = 0;
            Step(ex, [seq], Enumerable.Range(0, o.DecodeContext).Select(_ => rng.Next(c.VocabSize)).ToArray(), ref pos);
            foreach (bool graphs in new[] { false, true })
            {
                ex.UseCudaGraphs = graphs;
                for (int i = 0; i < o.WarmupSteps; i++) Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                double e0 = power?.ReadEnergyJoules() ?? 0;
                long t0 = Stopwatch.GetTimestamp();
                int startPos = pos;
                ex.MeasureDeviceTime = backend.IsCuda;
                double deviceMs = 0;
                for (int i = 0; i < o.DecodeSteps; i++)
                {
                    Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                    deviceMs += ex.LastStepDeviceMilliseconds;
                }
                ex.MeasureDeviceTime = false;
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                double joules = (power?.ReadEnergyJoules() ?? 0) - e0;
                double perStep = s / o.DecodeSteps;
                double kvRead = 2.0 * c.Layers * c.KvDim * 2 * ((startPos + pos) / 2.0);   // BF16 K and V over the average context
                double bytes = weightBytes + kvRead;
                string tag = graphs ? (backend.IsCuda && ex.CudaGraphFailure is null ? "decode-b1" : "decode-b1-graphs-unavailable") : "decode-b1-nograph";
                string note = graphs && ex.CudaGraphFailure != null ? $"; graphs off: {ex.CudaGraphFailure}" : "";
                figures.Add(new($"{f}/{tag}/ms-per-token", perStep * 1e3, "ms", $"context {startPos}..{pos}{note}"));
                figures.Add(new($"{f}/{tag}/tokens-per-s", 1 / perStep, "tok/s", ""));
                if (backend.IsCuda) figures.Add(new($"{f}/{tag}/device-ms-per-token", deviceMs / o.DecodeSteps, "ms", "CUDA events around the layers; the rest of the step is the host's staging and the logits copy"));
                if (hbmBytesPerSecond > 0)
                    figures.Add(new($"{f}/{tag}/fraction-of-hbm-bound", bytes / perStep / hbmBytesPerSecond, "",
                        $"{bytes / 1e9:F2} GB per step at {hbmBytesPerSecond / 1e12:F2} TB/s (target ≥ 0.60)"));
                if (power != null && graphs)
                {
                    // energy over a window of seconds: NVML's counter moves in coarse steps
                    double ew0 = power.ReadEnergyJoules();
                    long tw0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < o.EnergySteps; i++) Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                    double ws = Stopwatch.GetElapsedTime(tw0).TotalSeconds, wj = power.ReadEnergyJoules() - ew0;
                    figures.Add(new($"{f}/{tag}/joules-per-token", wj / o.EnergySteps, "J/tok",
                        $"NVML {power.Name} over {o.EnergySteps} steps ({ws:F2} s, {wj / ws:F0} W average)"));
                }
                log?.Invoke($"{f}: {tag} {perStep * 1e3:F2} ms/token{note}");
            }
            if (format == DeviceFormat.Fp8E4M3 && backend.IsCuda)
            {
                // A/B in the same run: the one-row products through the other path (the FP8 GEMV on F32 activations, or
                // the matrix engine with quantized activations, whichever the executor does not use by default)
                bool gemv = !ex.UseFp8Gemv;
                ex.UseFp8Gemv = gemv;
                for (int i = 0; i < o.WarmupSteps; i++) Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                int startPos = pos;
                ex.MeasureDeviceTime = true;
                double deviceMs = 0;
                for (int i = 0; i < o.DecodeSteps; i++)
                {
                    Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                    deviceMs += ex.LastStepDeviceMilliseconds;
                }
                ex.MeasureDeviceTime = false;
                ex.UseFp8Gemv = !gemv;
                string path = gemv ? (backend.Fp8GemvNative is not null ? "fp8-gemv-native" : "fp8-gemv") : "matrix-engine";
                figures.Add(new($"{f}/decode-b1-{path}/device-ms-per-token", deviceMs / o.DecodeSteps, "ms",
                    $"context {startPos}..{pos}, graphs; one-row products " + (gemv ? "through the FP8 GEMV on F32 activations" : $"on {backend.MatMul.Name} with quantized activations")));
                log?.Invoke($"{f}: decode-b1 through {path} {deviceMs / o.DecodeSteps:F2} device ms/token");
            }
        });

        // where a step's time goes: each operation synchronized and timed (slower than the figures above; for diagnosis)
        Phase(figures, $"{f}/profile", log, () =>
        {
            var rng = new Random(4);
            using (var seq = cache.CreateSequence([1], false))
            {
                int pos = 0;
                Step(ex, [seq], Enumerable.Range(0, o.DecodeContext).Select(_ => rng.Next(c.VocabSize)).ToArray(), ref pos);
                ex.OpProfile = [];
                const int steps = 4;
                for (int i = 0; i < steps; i++) Step(ex, [seq], [rng.Next(c.VocabSize)], ref pos);
                AddProfile(figures, $"{f}/profile-decode-b1", ex.OpProfile, steps, log);
                ex.OpProfile = null;
            }
            using (var seq = cache.CreateSequence([1], false))
            {
                int pos = 0;
                ex.OpProfile = [];
                Step(ex, [seq], Enumerable.Range(0, o.PrefillTokens).Select(_ => rng.Next(c.VocabSize)).ToArray(), ref pos);
                AddProfile(figures, $"{f}/profile-prefill-{o.PrefillTokens}", ex.OpProfile, 1, log);
                ex.OpProfile = null;
            }
        });

        // decode, batch B
        Phase(figures, $"{f}/decode-b{o.Batch}", log, () =>
        {
            var rng = new Random(2);
            var seqs = Enumerable.Range(0, o.Batch).Select(_ => cache.CreateSequence([1], false)).ToArray();
            try
            {
                var pos = new int[o.Batch];
                int perStep = Math.Max(1, maxTokens / o.BatchPrompt);
                for (int s0 = 0; s0 < o.Batch; s0 += perStep)
                {
                    var work = new List<SequenceWork>();
                    for (int s = s0; s < Math.Min(o.Batch, s0 + perStep); s++)
                        work.Add(new SequenceWork(s, Enumerable.Range(0, o.BatchPrompt).Select(_ => rng.Next(c.VocabSize)).ToArray(), 0, seqs[s], true));
                    Run(ex, work, pos);
                }
                for (int i = 0; i < o.WarmupSteps; i++) Run(ex, DecodeWork(seqs, pos, rng, c.VocabSize), pos);
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < o.DecodeSteps; i++) Run(ex, DecodeWork(seqs, pos, rng, c.VocabSize), pos);
                double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                double tokens = (double)o.Batch * o.DecodeSteps;
                double e0 = power?.ReadEnergyJoules() ?? 0;
                long tw0 = Stopwatch.GetTimestamp();
                if (power != null)
                    for (int i = 0; i < o.EnergyBatchSteps; i++) Run(ex, DecodeWork(seqs, pos, rng, c.VocabSize), pos);
                double ws = Stopwatch.GetElapsedTime(tw0).TotalSeconds;
                double joules = (power?.ReadEnergyJoules() ?? 0) - e0;
                figures.Add(new($"{f}/decode-b{o.Batch}/tokens-per-s", tokens / sec, "tok/s", $"{o.Batch} sequences, context {o.BatchPrompt}+"));
                figures.Add(new($"{f}/decode-b{o.Batch}/ms-per-step", sec / o.DecodeSteps * 1e3, "ms", ""));
                if (power != null)
                    figures.Add(new($"{f}/decode-b{o.Batch}/joules-per-token", joules / ((double)o.Batch * o.EnergyBatchSteps), "J/tok",
                        $"NVML {power.Name} over {o.EnergyBatchSteps} steps ({ws:F2} s, {joules / ws:F0} W average)"));
                log?.Invoke($"{f}: decode b{o.Batch} {tokens / sec:F0} tok/s");
            }
            finally
            {
                foreach (var s in seqs) s.Dispose();
            }
        });

        // prefill
        Phase(figures, $"{f}/prefill-{o.PrefillTokens}", log, () =>
        {
            var rng = new Random(3);
            int n = o.PrefillTokens;
            double best = double.MaxValue;
            int runs = 3 + (power != null ? o.EnergyPrefills : 0);
            double e0 = 0, tw0 = 0;
            for (int rep = 0; rep < runs; rep++)
            {
                if (rep == 3 && power != null)
                {
                    e0 = power.ReadEnergyJoules();
                    tw0 = Stopwatch.GetTimestamp();
                }
                using var seq = cache.CreateSequence([1], false);
                int pos = 0;
                int[] toks = Enumerable.Range(0, n).Select(_ => rng.Next(c.VocabSize)).ToArray();
                long t0 = Stopwatch.GetTimestamp();
                Step(ex, [seq], toks, ref pos);
                double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                if (rep < 3) best = Math.Min(best, sec);
            }
            double prefillJoules = power != null ? power.ReadEnergyJoules() - e0 : 0;
            double prefillSeconds = power != null ? Stopwatch.GetElapsedTime((long)tw0).TotalSeconds : 0;
            double flops = 2.0 * matrixParams * n + c.Layers * 4.0 * c.Heads * c.HeadDim * (n * (n + 1) / 2.0);
            figures.Add(new($"{f}/prefill-{n}/tokens-per-s", n / best, "tok/s", "best of 3"));
            figures.Add(new($"{f}/prefill-{n}/tflops", flops / best / 1e12, "TFLOP/s", "matrix products + attention"));
            double? peak = TensorCorePeak.For(deviceName, format);
            if (peak is double pk)
                figures.Add(new($"{f}/prefill-{n}/fraction-of-tensor-core-peak", flops / best / pk, "", $"peak {pk / 1e12:F0} TFLOP/s dense (target ≥ 0.50)"));
            if (power != null)
                figures.Add(new($"{f}/prefill-{n}/joules-per-token", prefillJoules / ((double)n * o.EnergyPrefills), "J/tok",
                    $"NVML {power.Name} over {o.EnergyPrefills} prefills ({prefillSeconds:F2} s, {prefillJoules / prefillSeconds:F0} W average)"));
            log?.Invoke($"{f}: prefill {n} in {best * 1e3:F1} ms" + (ex.FlashAttentionAvailable && ex.UseFlashAttention ? " (fused attention)" : ""));
            if (!ex.FlashAttentionAvailable)
                figures.Add(new($"{f}/prefill-{n}/fused-attention-unavailable", 0, "", backend.FlashAttentionUnavailable ?? $"head size {c.HeadDim}"));
            else
            {
                // A/B in the same run: the other attention path (batched cuBLASLt products around a separate softmax)
                ex.UseFlashAttention = !ex.UseFlashAttention;
                double other = double.MaxValue;
                for (int rep = 0; rep < 3; rep++)
                {
                    using var seq = cache.CreateSequence([1], false);
                    int pos = 0;
                    int[] toks = Enumerable.Range(0, n).Select(_ => rng.Next(c.VocabSize)).ToArray();
                    long t0 = Stopwatch.GetTimestamp();
                    Step(ex, [seq], toks, ref pos);
                    other = Math.Min(other, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                string path = ex.UseFlashAttention ? "fused-attention" : "unfused-attention";
                ex.UseFlashAttention = !ex.UseFlashAttention;
                figures.Add(new($"{f}/prefill-{n}-{path}/tokens-per-s", n / other, "tok/s", "best of 3, the path not taken by default"));
                figures.Add(new($"{f}/prefill-{n}-{path}/tflops", flops / other / 1e12, "TFLOP/s", "matrix products + attention"));
                log?.Invoke($"{f}: prefill {n} through {path} in {other * 1e3:F1} ms");
            }
        });
        return figures;
    }

    private static void AddProfile(List<BenchFigure> figures, string name, Dictionary<string, double> profile, int steps, Action<string>? log)
    {
        double total = profile.Values.Sum();
        foreach (var (op, sec) in profile.OrderByDescending(kv => kv.Value))
            figures.Add(new($"{name}/{op}", sec / steps * 1e3, "ms", $"{sec / total:P0} of {total / steps * 1e3:F2} ms per step (synchronized per op)"));
        log?.Invoke($"{name}: " + string.Join(", ", profile.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value / steps * 1e3:F2} ms")));
    }

    /// <summary>
    /// Runs one benchmark; an exception becomes a figure "<paramref name="name"/>/error" (unit "error", the message as
    /// detail, the stack trace in the log) so that the other benchmarks of the same device run still report.
    /// </summary>
    private static void Phase(List<BenchFigure> figures, string name, Action<string>? log, Action body)
    {
        try
        {
            body();
        }
#pragma warning disable CA1031 // the failure is reported as a figure, not swallowed
        catch (Exception e)
#pragma warning restore CA1031
        {
            figures.Add(new($"{name}/error", double.NaN, "error", $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")));
            log?.Invoke($"{name} failed: {e}");
        }
    }

    /// <summary>Parameters of the matrix products per token (QKV, O, gate/up, down per layer, and the output projection).</summary>
    public static long MatrixParameters(ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long d = c.EmbeddingLength;
        long perLayer = d * (c.QueryDim + 2L * c.KvDim) + (long)c.QueryDim * d + 3L * d * c.FeedForwardLength;
        return c.Layers * perLayer + (long)c.VocabSize * d;
    }

    private static void Step(GpuExecutor ex, SequenceKv[] seqs, int[] tokens, ref int pos)
    {
        ex.Execute(new ExecutionBatch([new SequenceWork(0, tokens, pos, seqs[0], true)]));
        seqs[0].Commit(tokens);
        pos += tokens.Length;
    }

    private static List<SequenceWork> DecodeWork(SequenceKv[] seqs, int[] pos, Random rng, int vocab) =>
        seqs.Select((s, i) => new SequenceWork(i, new[] { rng.Next(vocab) }, pos[i], s, true)).ToList();

    private static void Run(GpuExecutor ex, List<SequenceWork> work, int[] pos)
    {
        ex.Execute(new ExecutionBatch(work));
        foreach (var w in work)
        {
            ((SequenceKv)w.Kv).Commit(w.Tokens.Span);
            pos[(int)w.SequenceId] += w.Tokens.Length;
        }
    }
}
