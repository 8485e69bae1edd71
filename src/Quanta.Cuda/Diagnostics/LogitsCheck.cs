using Quanta.Core.Kernels.Ops;
using Quanta.Core.Threading;
using Quanta.Cuda.Device;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Models;
using Quanta.Models.Runtime;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// Logits of a random-weight model (BF16-exact weights, <see cref="RandomDecoderModel"/>) from the GPU executor (BF16)
/// against the CPU executor: one prefill step of <c>promptLength</c> tokens, then decode steps, each compared as
/// max |Δ| / max |CPU logit| (tolerance 0.03: BF16 rounding of matrix-product inputs and of the KV cache; see the CI
/// test) plus whether both pick the same greedy token.
/// </summary>
public static class LogitsCheck
{
    /// <summary>Runs the comparison for <paramref name="config"/>.</summary>
    public static IReadOnlyList<CheckResult> Run(GpuBackend backend, ModelConfig config, int seed, int promptLength, int decodeSteps, int threads)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        DecoderModel model = RandomDecoderModel.Create(config, seed);
        int maxPos = promptLength + decodeSteps + 1;
        using var pool = new WorkerPool(Math.Max(1, threads));
        var cpu = new CpuExecutor(model, pool, promptLength, 1, maxPos);
        var cpuCache = PagedKvCache.For(config, maxPos / 16 + 2, 16, maxPos, Quanta.Models.KvCache.KvCacheType.F32);
        var gpuCache = PagedKvCache.For(config, maxPos / 16 + 2, 16, maxPos, Quanta.Models.KvCache.KvCacheType.F16);
        using var weights = GpuModelWeights.FromModel(backend, model, new GpuWeightOptions(DeviceFormat.BF16));
        using var gpu = new GpuExecutor(backend, weights, gpuCache, promptLength, 1, maxPos);
        var rng = new Random(seed);
        int[] tokens = Enumerable.Range(0, promptLength).Select(_ => rng.Next(config.VocabSize)).ToArray();
        using var cs = cpuCache.CreateSequence(tokens, false);
        using var gs = gpuCache.CreateSequence(tokens, false);
        var results = new List<CheckResult>();
        int start = 0;
        int[] chunk = tokens;
        for (int step = 0; step <= decodeSteps; step++)
        {
            float[] expected = cpu.Execute(new ExecutionBatch([new SequenceWork(0, chunk, start, cs, true)])).Logits(0).ToArray();
            ReadOnlySpan<float> got = gpu.Execute(new ExecutionBatch([new SequenceWork(0, chunk, start, gs, true)])).Logits(0);
            double maxE = 0, maxD = 0;
            for (int v = 0; v < expected.Length; v++)
            {
                maxE = Math.Max(maxE, Math.Abs(expected[v]));
                double d = Math.Abs(expected[v] - got[v]);
                maxD = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(maxD, d);
            }
            int ce = Argmax.Find(expected), ge = Argmax.Find(got);
            string what = step == 0 ? $"prefill {chunk.Length}" : $"decode at {start}";
            results.Add(new($"logits-{config.Architecture}-{what}", "max |Δ| / max |CPU logit|", maxD / Math.Max(maxE, 1e-30), 0.03,
                $"{config.Layers} layers, dim {config.EmbeddingLength}, vocab {config.VocabSize}; greedy token CPU {ce} GPU {ge}"));
            cs.Commit(chunk);
            gs.Commit(chunk);
            start += chunk.Length;
            chunk = [ce];
        }
        return results;
    }
}
