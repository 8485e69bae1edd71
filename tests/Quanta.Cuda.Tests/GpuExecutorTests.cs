using Quanta.Core.Threading;
using Quanta.Cuda.Diagnostics;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Execution;
using Quanta.Cuda.Kernels;
using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Engine.Scheduling;
using Quanta.Models;
using Quanta.Models.Runtime;

namespace Quanta.Cuda.Tests;

/// <summary>
/// The GPU executor with the device faked (ILGPU's CPU accelerator, the plain matrix-product kernel in place of cuBLASLt)
/// against the CPU executor on a tiny random-weight model with BF16-exact weights, and driven by the engine's scheduler.
/// <para>Tolerances (first principles): with BF16 weights identical on both sides, the GPU path adds BF16 rounding of
/// each matrix product's input (relative 2⁻⁹) and of the KV cache; through 2 layers and the output projection this
/// stays well under 3% of the logits' range, so |Δ| ≤ 0.03·max|logit| per element. FP8 E4M3 activations round to 3
/// mantissa bits (relative 2⁻⁴) against one per-tensor scale, so the FP8 check is on direction: cosine similarity ≥ 0.9.
/// Over many fresh seeds most steps stay above 0.98, but a per-tensor scale set by one outlier activation leaves the small
/// ones few effective bits, and 0.93 was seen (seed 1209739432, step 2); a broken FP8 path (wrong scale, wrong byte
/// layout) is expected to scramble the logits far below that (not demonstrated by a mutation here).</para>
/// </summary>
[Trait("Category", "Gpu")]
public sealed class GpuExecutorTests(BackendFixture fx) : IClassFixture<BackendFixture>
{
    private static float MaxAbs(ReadOnlySpan<float> x)
    {
        float m = 0;
        foreach (float v in x) m = MathF.Max(m, MathF.Abs(v));
        return m;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
        return ab / Math.Sqrt(aa * bb);
    }

    // prefillGemmMinTokens 100: every token through the paged kernel; 4: the prompt chunks of 4+ tokens (at position 0
    // and after earlier chunks, beside 1- and 3-token sequences in the same step) through the batched-product path
    // prefillChunk 3: the batched-product path's query chunks of 3 tokens (keys up to each chunk's last token); fusedAmax:
    // the producers of multi-row FP8 inputs compute the quantization's amax (the quantizer only encodes)
    [Theory]
    [InlineData(DeviceFormat.BF16, false, 100, 256)]
    [InlineData(DeviceFormat.BF16, false, 4, 256)]
    [InlineData(DeviceFormat.BF16, false, 4, 3)]
    [InlineData(DeviceFormat.Fp8E4M3, false, 100, 256)]
    [InlineData(DeviceFormat.Fp8E4M3, true, 4, 256)]
    [InlineData(DeviceFormat.Fp8E4M3, false, 4, 256, true)]
    public void Mixed_prefill_and_decode_steps_match_the_CPU_executor(DeviceFormat format, bool perChannel, int prefillGemmMinTokens, int prefillChunk,
        bool fusedAmax = false)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        ModelConfig config = RandomDecoderModel.Tiny() with { QkvBias = false };
        DecoderModel model = RandomDecoderModel.Create(config, seed);
        using var pool = new WorkerPool(1);
        // the CPU oracle runs the weights the device holds: BF16 as is, FP8 decoded (with the fused matrices' scales)
        DecoderModel oracle = format == DeviceFormat.BF16 ? model : Fp8Oracle(model, perChannel);
        var cpu = new CpuExecutor(oracle, pool, 64, 4, 64);
        var cpuCache = PagedKvCache.For(config, 40, 4, 64);
        var gpuCache = PagedKvCache.For(config, 40, 4, 64);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(format, perChannel));
        using var gpu = new GpuExecutor(fx.Backend, weights, gpuCache, 64, 4, 64) { PrefillGemmMinTokens = prefillGemmMinTokens, PrefillAttentionChunkTokens = prefillChunk };
        if (fusedAmax) gpu.FusedAmaxMinElements = 0;   // every multi-row FP8 input: the norms and SwiGLU fold in the amax
        int[][] prompts = [Toks(rng, 9, config.VocabSize), Toks(rng, 3, config.VocabSize), Toks(rng, 14, config.VocabSize)];
        var cs = prompts.Select(p => cpuCache.CreateSequence(p, false)).ToArray();
        var gs = prompts.Select(p => gpuCache.CreateSequence(p, false)).ToArray();
        int[] done = new int[3];
        int[][] chunks = [[5, 4, 1, 1], [3, 1, 1, 1], [6, 8, 1, 1]];
        float worst = 0;
        double minCos = 1;
        for (int step = 0; step < 4; step++)
        {
            var cw = new List<SequenceWork>();
            var gw = new List<SequenceWork>();
            for (int i = 0; i < 3; i++)
            {
                int n = chunks[i][step];
                int[] t = done[i] + n <= prompts[i].Length ? prompts[i][done[i]..(done[i] + n)] : Toks(rng, n, config.VocabSize);
                bool logits = !(step == 0 && i == 2);
                cw.Add(new SequenceWork(i, t, done[i], cs[i], logits));
                gw.Add(new SequenceWork(i, t, done[i], gs[i], logits));
            }
            var cr = cpu.Execute(new ExecutionBatch(cw));
            float[][] expected = Enumerable.Range(0, 3).Select(i => cr.HasLogits(i) ? cr.Logits(i).ToArray() : []).ToArray();
            var gr = gpu.Execute(new ExecutionBatch(gw));
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(expected[i].Length > 0, gr.HasLogits(i));
                if (expected[i].Length == 0) continue;
                ReadOnlySpan<float> got = gr.Logits(i);
                float range = MaxAbs(expected[i]);
                if (format == DeviceFormat.BF16)
                    for (int v = 0; v < got.Length; v++)
                    {
                        float err = MathF.Abs(got[v] - expected[i][v]) / range;
                        worst = MathF.Max(worst, err);
                        Assert.True(err <= 0.03f, $"seed {seed} step {step} seq {i} logit {v}: GPU {got[v]} vs CPU {expected[i][v]} (range {range})");
                    }
                else
                {
                    double cos = Cosine(got, expected[i]);
                    minCos = Math.Min(minCos, cos);
                    Assert.True(cos >= 0.9, $"seed {seed} step {step} seq {i}: cosine {cos:F4} between FP8 GPU and CPU logits");
                }
                cs[i].Commit(cw[i].Tokens.Span);
                gs[i].Commit(gw[i].Tokens.Span);
            }
            for (int i = 0; i < 3; i++)
                if (expected[i].Length == 0) { cs[i].Commit(cw[i].Tokens.Span); gs[i].Commit(gw[i].Tokens.Span); }
            for (int i = 0; i < 3; i++) done[i] += chunks[i][step];
        }
        Console.WriteLine($"{format} perChannel={perChannel} gemm>={prefillGemmMinTokens}: worst relative logit error {worst}, least cosine {minCos:F5}");
        foreach (var s in cs.Concat(gs)) s.Dispose();
        Assert.Equal(0, gpuCache.Pool.UsedBlocks);
    }

    // One sequence decoding alone: with FP8 weights each step has one token, so every product runs the FP8 GEMV on F32
    // activations (or, with the GEMV off, the per-tensor quantized path); the logits must keep the CPU executor's
    // direction (the FP8 bound of the class comment) and, with BF16 weights, its values
    [Theory]
    [InlineData(DeviceFormat.BF16, true)]
    [InlineData(DeviceFormat.Fp8E4M3, true)]
    [InlineData(DeviceFormat.Fp8E4M3, false)]
    public void Single_sequence_decode_matches_the_CPU_executor(DeviceFormat format, bool gemv)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        ModelConfig config = RandomDecoderModel.Tiny() with { QkvBias = false };
        DecoderModel model = RandomDecoderModel.Create(config, seed);
        using var pool = new WorkerPool(1);
        DecoderModel oracle = format == DeviceFormat.BF16 ? model : Fp8Oracle(model, false);
        var cpu = new CpuExecutor(oracle, pool, 64, 4, 64);
        var cpuCache = PagedKvCache.For(config, 40, 4, 64);
        var gpuCache = PagedKvCache.For(config, 40, 4, 64);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(format));
        using var gpu = new GpuExecutor(fx.Backend, weights, gpuCache, 64, 4, 64) { PrefillGemmMinTokens = 100, UseFp8Gemv = gemv };
        int[] prompt = Toks(rng, 7, config.VocabSize);
        using var cs = cpuCache.CreateSequence(prompt, false);
        using var gs = gpuCache.CreateSequence(prompt, false);
        int pos = 0;
        int[] next = prompt;
        for (int step = 0; step < 5; step++)
        {
            var cr = cpu.Execute(new ExecutionBatch([new SequenceWork(0, next, pos, cs, true)]));
            var gr = gpu.Execute(new ExecutionBatch([new SequenceWork(0, next, pos, gs, true)]));
            ReadOnlySpan<float> expected = cr.Logits(0), got = gr.Logits(0);
            if (format == DeviceFormat.BF16)
            {
                float range = MaxAbs(expected);
                for (int v = 0; v < got.Length; v++)
                    Assert.True(MathF.Abs(got[v] - expected[v]) <= 0.03f * range, $"seed {seed} step {step} logit {v}: GPU {got[v]} vs CPU {expected[v]}");
            }
            else
            {
                double cos = Cosine(got, expected);
                Assert.True(cos >= 0.9, $"seed {seed} step {step}: cosine {cos:F4} between FP8 GPU and CPU logits");
            }
            cs.Commit(next);
            gs.Commit(next);
            pos += next.Length;
            next = [rng.Next(config.VocabSize)];
        }
    }

    // A blocks-only cache (no host storage, what serving uses): a forked sequence shares the prompt's partial last block;
    // its next token makes TryReserve copy that block (copy-on-write) and the executor must copy the device pages too,
    // or the fork attends to zeros. Both continuations must give the logits of a fresh sequence fed prompt + token.
    [Fact]
    public void Copy_on_write_of_a_forked_sequence_copies_the_device_pages()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        ModelConfig config = RandomDecoderModel.Tiny() with { QkvBias = false };
        DecoderModel model = RandomDecoderModel.Create(config, seed);
        var cache = PagedKvCache.BlocksOnly(config, 16, 4, 32, GpuServing.KvStorage);
        Assert.False(cache.HasHostStorage);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(DeviceFormat.BF16));
        using var gpu = new GpuExecutor(fx.Backend, weights, cache, 16, 3, 32);
        int[] prompt = Toks(rng, 6, config.VocabSize);   // blocks of 4: the second block holds 2 positions, shared by the fork
        int next = rng.Next(config.VocabSize);
        using SequenceKv a = cache.CreateSequence(prompt, false);
        gpu.Execute(new ExecutionBatch([new SequenceWork(0, prompt, 0, a, false)]));
        a.Commit(prompt);
        using SequenceKv b = a.Fork();
        Assert.Equal(a.BlockTable.ToArray(), b.BlockTable.ToArray());
        using SequenceKv fresh = cache.CreateSequence([.. prompt, next], false);
        var r = gpu.Execute(new ExecutionBatch([new SequenceWork(1, new[] { next }, 6, b, true), new SequenceWork(2, (int[])[.. prompt, next], 0, fresh, true)]));
        float[] forked = r.Logits(0).ToArray(), expected = r.Logits(1).ToArray();
        Assert.NotEqual(a.BlockTable[1], b.BlockTable[1]);   // the fork wrote into its own copy
        r = gpu.Execute(new ExecutionBatch([new SequenceWork(0, new[] { next }, 6, a, true)]));
        float[] original = r.Logits(0).ToArray();
        float range = MaxAbs(expected);
        for (int v = 0; v < expected.Length; v++)
        {
            // same weights, same K/V bits: only the summation order of attention over 7 positions may differ
            Assert.True(MathF.Abs(forked[v] - expected[v]) <= 1e-3f * range, $"seed {seed} logit {v}: fork {forked[v]} vs fresh {expected[v]}");
            Assert.True(MathF.Abs(original[v] - expected[v]) <= 1e-3f * range, $"seed {seed} logit {v}: original {original[v]} vs fresh {expected[v]}");
        }
    }

    [Fact]
    public async Task Engine_loop_with_the_GPU_executor_gives_each_request_its_tokens_alone_and_reports_energy()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        ModelConfig config = RandomDecoderModel.Tiny();
        DecoderModel model = RandomDecoderModel.Create(config, seed);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(DeviceFormat.BF16));
        int[] common = Toks(rng, 8, config.VocabSize);
        var requests = Enumerable.Range(0, 4).Select(i => new GenerationRequest
        {
            Prompt = (i % 2 == 0 ? common : []).Concat(Toks(rng, 1 + rng.Next(4), config.VocabSize)).ToArray(),
            MaxNewTokens = 2 + rng.Next(3),
            Sampler = TokenSamplers.Greedy,
        }).ToArray();
        double joules = 0;
        async Task<GenerationResult[]> Run(IEnumerable<GenerationRequest> reqs, int budget)
        {
            var cache = PagedKvCache.For(config, 60, 4, 64);
            var power = new NvmlPowerSource(() => joules += 0.5, "fake-counter");   // +0.5 J per read
            using var ex = new GpuExecutor(fx.Backend, weights, cache, budget, 8, 64, power);
            var sched = new Scheduler(cache, new SchedulerOptions { MaxBatchTokens = budget, MaxRunning = 8 });
            var observed = new List<double?>();
            using var loop = new EngineLoop(sched, new Recording(ex, observed));
            var results = await Task.WhenAll(reqs.Select(r => loop.Submit(r).Completion)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotEmpty(observed);
            Assert.All(observed, e => Assert.Equal(0.5, e));   // each step: one read before, one after
            Assert.Equal(0, cache.Pool.UsedBlocks);
            return results;
        }
        var alone = new List<GenerationResult>();
        foreach (var r in requests) alone.Add((await Run([r], 32))[0]);
        var together = await Run(requests, 10);   // small budget: chunked prefill, mixed batches, prefix-cache hits
        for (int i = 0; i < requests.Length; i++)
            Assert.True(alone[i].Tokens.SequenceEqual(together[i].Tokens),
                $"seed {seed}: request {i}: [{string.Join(",", alone[i].Tokens)}] alone vs [{string.Join(",", together[i].Tokens)}] batched");
    }

    [Fact]
    public void Bad_input_gets_clear_errors()
    {
        ModelConfig config = RandomDecoderModel.Tiny();
        DecoderModel model = RandomDecoderModel.Create(config, 1);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(DeviceFormat.BF16));
        var cache = PagedKvCache.For(config, 10, 4, 32);
        using var ex = new GpuExecutor(fx.Backend, weights, cache, 8, 2, 32);
        var other = PagedKvCache.For(config, 10, 4, 32).CreateSequence([1], false);
        var e1 = Assert.Throws<ArgumentException>(() => ex.Execute(new ExecutionBatch([new SequenceWork(0, new[] { 1 }, 0, other, true)])));
        Assert.Contains("SequenceKv of the cache", e1.Message);
        var seq = cache.CreateSequence([1], false);
        Assert.Throws<ArgumentOutOfRangeException>(() => ex.Execute(new ExecutionBatch([new SequenceWork(0, new[] { 96 }, 0, seq, true)])));
        Assert.Throws<ArgumentException>(() => ex.Execute(new ExecutionBatch([new SequenceWork(0, new int[9], 0, seq, true)])));
        var gemma = config with { Activation = FeedForwardActivation.GeluTanh };
        var ns = Assert.Throws<NotSupportedException>(() => GpuModelWeights.CheckSupported(gemma));
        Assert.Contains("GeluTanh", ns.Message);
    }

    [Fact]
    public void Native_kernels_are_CUDA_only_and_their_sources_ship_in_the_assembly()
    {
        // the simulation has no NVRTC kernels: the executor keeps the batched-product path and says why
        ModelConfig config = RandomDecoderModel.Tiny();
        DecoderModel model = RandomDecoderModel.Create(config, 1);
        using var weights = GpuModelWeights.FromModel(fx.Backend, model, new GpuWeightOptions(DeviceFormat.BF16));
        using var ex = new GpuExecutor(fx.Backend, weights, PagedKvCache.For(config, 10, 4, 32), 8, 2, 32);
        Assert.False(ex.FlashAttentionAvailable);   // head size 16: not compiled for it either
        Assert.Null(fx.Backend.FlashAttention);
        Assert.Equal("not a CUDA device", fx.Backend.FlashAttentionUnavailable);
        // what NVRTC compiles on the device: both entry points, and the shared-memory size the host asks for
        string source = FlashAttentionKernel.Source();
        Assert.Contains("FLASH_ENTRY(64)", source);
        Assert.Contains("FLASH_ENTRY(128)", source);
        Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", source);
        Assert.True(FlashAttentionKernel.Supports(64) && FlashAttentionKernel.Supports(128) && !FlashAttentionKernel.Supports(96));
        // two stages of K [64][HD + 32] and V^T [HD][96] BF16: 90,112 bytes at HD 128 (over the 48 KiB default, so asked for)
        Assert.Equal(2 * (64 * 160 + 128 * 96) * 2, FlashAttentionKernel.SharedBytes(128));
        Assert.Equal(49_152, FlashAttentionKernel.SharedBytes(64));
        // the native FP8 GEMV likewise: absent on the simulation (the ILGPU GEMV serves), its source embedded
        Assert.Null(fx.Backend.Fp8GemvNative);
        Assert.Equal("not a CUDA device", fx.Backend.Fp8GemvNativeUnavailable);
        string gemv = NativeKernelSource.Text("fp8_gemv.cu");
        Assert.Contains("extern \"C\" __global__ void __launch_bounds__(128) fp8_gemv(", gemv);
        Assert.Contains($"#define ROWS {Fp8GemvNativeKernel.RowsPerBlock}", gemv);
    }

    /// <summary>The model with every matrix replaced by the F32 values of its FP8 device encoding (fused as on the device).</summary>
    private static DecoderModel Fp8Oracle(DecoderModel m, bool perChannel)
    {
        ModelConfig c = m.Config;
        static float[] Rows(Quanta.Models.Weights.WeightMatrix w)
        {
            var f = new float[w.Rows * w.Cols];
            for (int r = 0; r < w.Rows; r++) w.DequantizeRow(r, f.AsSpan(r * w.Cols, w.Cols));
            return f;
        }
        Quanta.Models.Weights.WeightMatrix[] Fused(params Quanta.Models.Weights.WeightMatrix[] parts)
        {
            int cols = parts[0].Cols, rows = parts.Sum(p => p.Rows);
            float[] all = parts.SelectMany(Rows).ToArray();
            float[] dec = Device.DeviceWeights.DecodeHost(all, rows, cols, DeviceFormat.Fp8E4M3, perChannel);
            var result = new Quanta.Models.Weights.WeightMatrix[parts.Length];
            for (int i = 0, r0 = 0; i < parts.Length; r0 += parts[i].Rows, i++)
                result[i] = Quanta.Models.Weights.WeightMatrix.FromFloats(Quanta.Core.Formats.WeightFormat.F32, parts[i].Rows, cols, dec.AsSpan(r0 * cols, parts[i].Rows * cols));
            return result;
        }
        var layers = m.Weights.Layers.Select(l =>
        {
            var qkv = Fused(l.Query, l.Key, l.Value);
            var gu = Fused(l.Gate, l.Up);
            return l with { Query = qkv[0], Key = qkv[1], Value = qkv[2], Output = Fused(l.Output)[0], Gate = gu[0], Up = gu[1], Down = Fused(l.Down)[0] };
        }).ToList();
        var w = m.Weights;
        return new DecoderModel(c, new Quanta.Models.Weights.ModelWeights(w.TokenEmbedding, layers, w.OutputNorm, Fused(w.Output)[0], w.RopeFrequencyFactors));
    }

    private static int[] Toks(Random r, int n, int vocab) => Enumerable.Range(0, n).Select(_ => r.Next(vocab)).ToArray();

    /// <summary>Passes steps through and records each step's reported energy.</summary>
    private sealed class Recording(IExecutor inner, List<double?> energies) : IExecutor
    {
        public int VocabSize => inner.VocabSize;
        public int MaxBatchTokens => inner.MaxBatchTokens;
        public int MaxBatchSequences => inner.MaxBatchSequences;

        public ExecutionResult Execute(ExecutionBatch batch)
        {
            var r = inner.Execute(batch);
            energies.Add(r.EnergyJoules);
            return r;
        }
    }
}
