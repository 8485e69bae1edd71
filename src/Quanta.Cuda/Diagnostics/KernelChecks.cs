using ILGPU;
using ILGPU.Runtime;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Cuda.Device;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// Every kernel of <see cref="GpuKernels"/> and the backend's matrix engine against Quanta.Core's CPU kernels on fresh
/// random inputs (seeded), as <see cref="CheckResult"/>s. Errors are relative to the largest expected magnitude of the
/// output (reductions), or counts of differing codes (conversions: expected bit-exact). Tolerances allow for the GPU's
/// fused multiply-adds and approximate exp/tanh in reductions and activations. <see cref="Sizes"/> picks the shapes
/// (Llama-8B-like on the device, small in CI).
/// </summary>
public static class KernelChecks
{
    /// <summary>Shapes used by the checks.</summary>
    public sealed record Sizes(int Rows, int Dim, int Heads, int KvHeads, int HeadDim, int Positions, int MatM, int MatN, int MatK)
    {
        /// <summary>Llama-3.1-8B-like shapes.</summary>
        public static Sizes Device { get; } = new(64, 4096, 32, 8, 128, 1000, 16, 4096, 4096);

        /// <summary>Small shapes for the CPU accelerator.</summary>
        public static Sizes Small { get; } = new(4, 48, 4, 2, 16, 40, 3, 24, 40);
    }

    /// <summary>Runs every check on <paramref name="backend"/>.</summary>
    public static IReadOnlyList<CheckResult> Run(GpuBackend backend, Sizes sizes, int seed)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(sizes);
        var r = new Random(seed);
        var results = new List<CheckResult>();
        var ctx = new Ctx(backend);
        results.AddRange(Guarded("rmsnorm", () => [RmsNormCheck(ctx, sizes, r), RmsNormAmaxCheck(ctx, sizes, r)]));
        results.AddRange(Guarded("rope-normal", () => [RopeCheck(ctx, sizes, r, RopeLayout.Normal)]));
        results.AddRange(Guarded("rope-neox", () => [RopeCheck(ctx, sizes, r, RopeLayout.NeoX)]));
        results.AddRange(Guarded("conversions", () => ConversionChecks(ctx, sizes, r)));
        results.AddRange(Guarded("elementwise", () => ElementWiseChecks(ctx, sizes, r)));
        results.AddRange(Guarded("attention", () => AttentionChecks(ctx, sizes, r)));
        if (backend.IsCuda) results.AddRange(Guarded("flash-attention-prefill", () => FlashAttentionChecks(ctx, sizes, r)));
        results.AddRange(Guarded("matmul-bf16", () => [MatMulCheck(ctx, sizes, r, DeviceFormat.BF16)]));
        results.AddRange(Guarded("matmul-fp8e4m3", () => [MatMulCheck(ctx, sizes, r, DeviceFormat.Fp8E4M3)]));
        results.AddRange(Guarded("gemv-fp8e4m3", () => [GemvCheck(ctx, sizes, r)]));
        if (backend.IsCuda) results.AddRange(Guarded("gemv-fp8e4m3-native", () => [GemvCheck(ctx, sizes, r, native: true)]));
        return results;
    }

    /// <summary>
    /// Runs one check; an exception (a CUDA or cuBLASLt error, a kernel that fails to compile) becomes a failed result
    /// named <paramref name="name"/> with the error as its detail, so one device run reports every check.
    /// </summary>
    public static IReadOnlyList<CheckResult> Guarded(string name, Func<IEnumerable<CheckResult>> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        try
        {
            return [.. check()];
        }
#pragma warning disable CA1031 // the failure is the result: it is reported, not swallowed
        catch (Exception e)
#pragma warning restore CA1031
        {
            return [new CheckResult(name, "exception", double.PositiveInfinity, 0, $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "))];
        }
    }

    private sealed class Ctx(GpuBackend b)
    {
        public GpuBackend B { get; } = b;
        public GpuKernels K => B.Kernels;

        public MemoryBuffer1D<T, Stride1D.Dense> Up<T>(T[] data) where T : unmanaged
        {
            var buf = B.Accelerator.Allocate1D<T>(Math.Max(1, data.Length));
            if (data.Length > 0) ((ArrayView<T>)buf.View).SubView(0, data.Length).CopyFromCPU(data);
            B.Synchronize();   // the upload went on the default stream; kernels run on the backend's stream
            return buf;
        }

        public MemoryBuffer1D<T, Stride1D.Dense> New<T>(long n) where T : unmanaged => B.Accelerator.Allocate1D<T>(Math.Max(1, n));

        public T[] Down<T>(MemoryBuffer1D<T, Stride1D.Dense> buf, long n) where T : unmanaged
        {
            B.Synchronize();
            var a = new T[n];
            ((ArrayView<T>)buf.View).SubView(0, n).CopyToCPU(a);
            return a;
        }
    }

    private static float[] Rand(Random r, long n, float a = 1f)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1) * a;
        return v;
    }

    private static double RelErr(ReadOnlySpan<float> expected, ReadOnlySpan<float> got)
    {
        double maxE = 0, maxD = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxE = Math.Max(maxE, Math.Abs(expected[i]));
            double d = Math.Abs((double)expected[i] - got[i]);
            maxD = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(maxD, d);
        }
        return maxD / Math.Max(maxE, 1e-30);
    }

    private static CheckResult RmsNormCheck(Ctx c, Sizes s, Random r)
    {
        float[] x = Rand(r, (long)s.Rows * s.Dim, 3f), w = Rand(r, s.Dim);
        using var bx = c.Up(x); using var bw = c.Up(w); using var by = c.New<float>(x.Length);
        c.K.RmsNorm(bx.View, bw.View, by.View, s.Rows, s.Dim, 1e-5f);
        float[] y = c.Down(by, x.Length);
        var e = new float[x.Length];
        for (int i = 0; i < s.Rows; i++) RmsNorm.ForwardReference(x.AsSpan(i * s.Dim, s.Dim), w, e.AsSpan(i * s.Dim, s.Dim), 1e-5f);
        return new("rmsnorm", "max |Δ| / max |expected|", RelErr(e, y), 1e-5, $"[{s.Rows}, {s.Dim}]");
    }

    /// <summary>The residual-add norm with max |y| folded in (prompt-sized FP8 inputs): the same values and their exact amax.</summary>
    private static CheckResult RmsNormAmaxCheck(Ctx c, Sizes s, Random r)
    {
        float[] x = Rand(r, (long)s.Rows * s.Dim, 3f), w = Rand(r, s.Dim), res = Rand(r, (long)s.Rows * s.Dim);
        using var bx1 = c.Up(x); using var bx2 = c.Up(x); using var bw = c.Up(w); using var bres = c.Up(res);
        using var y1 = c.New<float>(x.Length); using var y2 = c.New<float>(x.Length); using var amax = c.Up(new[] { 12345 });
        c.K.Norm(bx1.View, bw.View, bres.View, 0, y1.View, default, default, default, s.Rows, s.Dim, 1e-5f, null);
        c.K.Norm(bx2.View, bw.View, bres.View, 0, y2.View, default, default, default, s.Rows, s.Dim, 1e-5f, null, amax.View);
        float[] e = c.Down(y1, x.Length), g = c.Down(y2, x.Length);
        int bad = 0;
        for (int i = 0; i < e.Length; i++) if (BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(g[i])) bad++;
        if (BitConverter.Int32BitsToSingle(c.Down(amax, 1)[0]) != e.Max(MathF.Abs)) bad++;
        return new("add+rmsnorm+amax", "values or amax differing from add+rmsnorm", bad, 0, $"[{s.Rows}, {s.Dim}]");
    }

    private static CheckResult RopeCheck(Ctx c, Sizes s, Random r, RopeLayout layout)
    {
        int hd = s.HeadDim, nRot = hd, tokens = s.Rows, heads = s.Heads, maxPos = s.Positions;
        var p = new RopeParameters(nRot, layout, 500000f);
        var ff = new float[nRot / 2];
        RopeScaling.Llama3FrequencyFactors(nRot, p.FreqBase, 8f, 1f, 4f, 8192, ff);
        var ct = new float[maxPos * nRot];
        var st = new float[maxPos * nRot];
        var cos = new float[nRot / 2];
        var sin = new float[nRot / 2];
        for (int pos = 0; pos < maxPos; pos++)
        {
            Rope.ComputeCosSin(p, ff, pos, cos, sin);
            Rope.ExpandTables(layout, cos, sin, ct.AsSpan(pos * nRot, nRot), st.AsSpan(pos * nRot, nRot));
        }
        float[] x = Rand(r, (long)tokens * heads * hd, 2f);
        int[] positions = Enumerable.Range(0, tokens).Select(_ => r.Next(maxPos)).ToArray();
        using var bx = c.Up(x); using var bp = c.Up(positions); using var bc = c.Up(ct); using var bs = c.Up(st);
        c.K.Rope(bx.View, bp.View, bc.View, bs.View, tokens, heads * hd, 0, heads, hd, nRot, layout == RopeLayout.NeoX);
        float[] got = c.Down(bx, x.Length);
        for (int t = 0; t < tokens; t++)
            Rope.Apply(x.AsSpan(t * heads * hd, heads * hd), heads, hd, nRot, layout, ct.AsSpan(positions[t] * nRot, nRot), st.AsSpan(positions[t] * nRot, nRot));
        return new($"rope-{layout.ToString().ToLowerInvariant()}-llama3", "max |Δ| / max |expected|", RelErr(x, got), 1e-6, $"{tokens} tokens × {heads} heads × {hd}");
    }

    private static IEnumerable<CheckResult> ConversionChecks(Ctx c, Sizes s, Random r)
    {
        int n = s.Rows * s.Dim;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((r.NextDouble() * 2 - 1) * Math.Pow(2, r.Next(-14, 12)));
        using var bx = c.Up(x); using var b16 = c.New<ushort>(n); using var bf = c.New<float>(n);
        c.K.ToBf16(bx.View, b16.View, n);
        c.K.FromBf16(b16.View, bf.View, n);
        ushort[] h = c.Down(b16, n);
        float[] back = c.Down(bf, n);
        int bad16 = 0;
        for (int i = 0; i < n; i++)
            if (h[i] != BF16Conversion.FromSingle(x[i]) || BF16Conversion.ToSingle(h[i]) != back[i]) bad16++;
        yield return new("bf16-convert", "mismatching values", bad16, 0, $"{n} values over 2^-14..2^12");

        using var q = c.New<byte>(n); using var amax = c.New<int>(1); using var scale = c.New<float>(1); using var dq = c.New<float>(n);
        c.K.QuantizeE4M3(bx.View, q.View, amax.View, scale.View, n);
        c.K.DequantizeE4M3(q.View, scale.View, dq.View, n);
        byte[] codes = c.Down(q, n);
        float sc = c.Down(scale, 1)[0];
        float[] deq = c.Down(dq, n);
        float expScale = x.Max(MathF.Abs) / 448f;
        var e = new byte[n];
        Fp8E4M3.EncodeRow(x, expScale, e);
        var ed = new float[n];
        Fp8E4M3.DecodeRowReference(e, expScale, ed);
        int bad8 = sc == expScale ? 0 : n;
        for (int i = 0; i < n; i++) if (codes[i] != e[i] || BitConverter.SingleToInt32Bits(deq[i]) != BitConverter.SingleToInt32Bits(ed[i])) bad8++;
        yield return new("fp8-e4m3-quantize", "mismatching codes or values", bad8, 0, $"{n} values, per-tensor scale");
    }

    private static IEnumerable<CheckResult> ElementWiseChecks(Ctx c, Sizes s, Random r)
    {
        int tokens = s.Rows, ffn = s.Dim;
        float[] gu = Rand(r, (long)tokens * 2 * ffn, 6f);
        using (var bgu = c.Up(gu))
        using (var by = c.New<float>((long)tokens * ffn))
        {
            c.K.SwiGlu(bgu.View, by.View, tokens, ffn);
            float[] y = c.Down(by, (long)tokens * ffn);
            var e = new float[tokens * ffn];
            for (int t = 0; t < tokens; t++)
                SwiGlu.ForwardReference(gu.AsSpan(t * 2 * ffn, ffn), gu.AsSpan(t * 2 * ffn + ffn, ffn), e.AsSpan(t * ffn, ffn));
            yield return new("swiglu", "max |Δ| / max |expected|", RelErr(e, y), 1e-5, $"[{tokens}, {ffn}]");
            // prompt-sized FP8 inputs: the same values with max |y| folded in by atomics
            using var y2 = c.New<float>((long)tokens * ffn); using var amax = c.Up(new[] { 12345 });
            c.K.SwiGluWithAmax(bgu.View, y2.View, amax.View, tokens, ffn);
            float[] g2 = c.Down(y2, (long)tokens * ffn);
            int bad = 0;
            for (int i = 0; i < g2.Length; i++) if (BitConverter.SingleToInt32Bits(g2[i]) != BitConverter.SingleToInt32Bits(y[i])) bad++;
            if (BitConverter.Int32BitsToSingle(c.Down(amax, 1)[0]) != y.Max(MathF.Abs)) bad++;
            yield return new("swiglu+amax", "values or amax differing from swiglu", bad, 0, $"[{tokens}, {ffn}]");
        }
        float[] a = Rand(r, s.Dim), b = Rand(r, s.Dim);
        using (var ba = c.Up(a))
        using (var bb = c.Up(b))
        {
            c.K.Add(ba.View, bb.View, s.Dim);
            float[] got = c.Down(ba, s.Dim);
            var e = new float[s.Dim];
            Add.ForwardReference(a, b, e);
            yield return new("residual-add", "max |Δ| / max |expected|", RelErr(e, got), 0, $"[{s.Dim}]");
        }
        int vocab = 1000, dim = s.Dim;
        ushort[] table = Rand(r, (long)vocab * dim).Select(BF16Conversion.FromSingle).ToArray();
        int[] toks = Enumerable.Range(0, s.Rows).Select(_ => r.Next(vocab)).ToArray();
        using (var bt = c.Up(table))
        using (var btok = c.Up(toks))
        using (var bx = c.New<float>((long)toks.Length * dim))
        {
            c.K.Embedding(bt.View, btok.View, bx.View, toks.Length, dim, 1f);
            float[] x = c.Down(bx, (long)toks.Length * dim);
            var e = new float[x.Length];
            for (int t = 0; t < toks.Length; t++) BF16Conversion.ToSingleRowReference(table.AsSpan(toks[t] * dim, dim), e.AsSpan(t * dim, dim));
            yield return new("embedding-bf16", "max |Δ| / max |expected|", RelErr(e, x), 0, $"{toks.Length} tokens × {dim}");
        }
        int rows = s.Rows, n = 128256;
        float[] logits = Rand(r, (long)rows * n, 10f);
        using (var bl = c.Up(logits))
        using (var bi = c.New<int>(rows))
        {
            c.K.Argmax(bl.View, bi.View, rows, n);
            int[] idx = c.Down(bi, rows);
            int bad = 0;
            for (int i = 0; i < rows; i++) if (Argmax.Find(logits.AsSpan(i * n, n)) != idx[i]) bad++;
            yield return new("argmax", "mismatching rows", bad, 0, $"[{rows}, {n}]");
        }
    }

    private static IEnumerable<CheckResult> AttentionChecks(Ctx c, Sizes s, Random r)
    {
        int heads = s.Heads, kvHeads = s.KvHeads, hd = s.HeadDim, kvd = kvHeads * hd, bs = 16, len = s.Positions;
        int maxBlocks = (len + bs - 1) / bs, numBlocks = maxBlocks + 8, stride = heads * hd + 2 * kvd;
        int[] table = Enumerable.Range(1, numBlocks - 1).OrderBy(_ => r.Next()).Take(maxBlocks).ToArray();
        int n = len;   // one sequence, every position a token (prefill); decode rows are the same kernel at the last position
        var pos = Enumerable.Range(0, n).ToArray();
        var slots = pos.Select(p => table[p / bs] * bs + p % bs).ToArray();
        float[] qkv = Rand(r, (long)n * stride, 2f);
        using var bq = c.Up(qkv); using var bslots = c.Up(slots); using var bt = c.Up(table); using var bseq = c.Up(new int[n]); using var bpos = c.Up(pos);
        using var kc = c.New<ushort>((long)numBlocks * bs * kvd); using var vc = c.New<ushort>((long)numBlocks * bs * kvd);
        c.K.KvWrite(bq.View, bslots.View, kc.View, vc.View, n, stride, heads * hd, heads * hd + kvd, kvd, 0);
        // rows checked: the last 8 positions (longest attention)
        int first = Math.Max(0, n - 8), rows = n - first;
        using var scores = c.New<float>((long)rows * heads * GpuKernels.AttentionSplits(len) * (hd + 2)); using var outB = c.New<float>((long)rows * heads * hd);
        var args = new AttentionArgs
        {
            Heads = heads, KvHeads = kvHeads, HeadDim = hd, QkvStride = stride, BlockSize = bs, MaxBlocks = maxBlocks, MaxPositions = len,
            Scale = 1f / MathF.Sqrt(hd),
        };
        c.K.Attention(((ArrayView<float>)bq.View).SubView((long)first * stride), kc.View, vc.View, bt.View, ((ArrayView<int>)bseq.View).SubView(first),
            ((ArrayView<int>)bpos.View).SubView(first), scores.View, outB.View, rows, args);
        float[] got = c.Down(outB, (long)rows * heads * hd);
        ushort[] kh = c.Down(kc, (long)numBlocks * bs * kvd), vh = c.Down(vc, (long)numBlocks * bs * kvd);
        var k32 = kh.Select(BF16Conversion.ToSingle).ToArray();
        var v32 = vh.Select(BF16Conversion.ToSingle).ToArray();
        var view = new PagedKvView<float>(k32, v32, table, bs, len, kvHeads, hd);
        var ap = new AttentionParameters(heads, kvHeads, hd);
        var scratch = new float[CausalAttention.ScratchLength(len, hd)];
        var e = new float[got.Length];
        for (int t = first; t < n; t++)
            for (int h = 0; h < heads; h++)
                CausalAttention.ForwardRow<float, PagedKvView<float>>(qkv.AsSpan(t * stride + h * hd, hd), t, h, view, ap,
                    e.AsSpan(((t - first) * heads + h) * hd, hd), scratch);
        yield return new("paged-attention+kv-write", "max |Δ| / max |expected|", RelErr(e, got), 1e-4, $"{len} positions, {heads}/{kvHeads} heads × {hd}, block {bs}");
    }

    /// <summary>
    /// The fused tensor-core prefill attention (<see cref="FlashAttentionKernel"/>, CUDA only) on gathered BF16 K and Vᵀ
    /// against a double-precision causal softmax over the same BF16 keys and values and the F32 queries: a chunk of 477
    /// tokens starting at position 123 (rows that end mid-block, keys padded to a multiple of 16, stale finite rows past
    /// the padding), without and with a 256-position sliding window, at head sizes 128 and 64. Every 13th token and the
    /// last one are compared. The kernel rounds queries and probabilities to BF16, hence the 1e-2 tolerance.
    /// </summary>
    private static IEnumerable<CheckResult> FlashAttentionChecks(Ctx c, Sizes s, Random r)
    {
        FlashAttentionKernel flash = c.B.FlashAttention
            ?? throw new InvalidOperationException($"the fused prefill attention is unavailable: {c.B.FlashAttentionUnavailable}");
        foreach ((int hd, int window) in new[] { (s.HeadDim, 0), (s.HeadDim, 256), (64, 0) })
        {
            if (!FlashAttentionKernel.Supports(hd)) continue;
            int heads = s.Heads, kvHeads = s.KvHeads, g = heads / kvHeads, tokens = 477, first = 123, length = first + tokens;
            int padded = (length + 15) / 16 * 16, keyRows = padded + 32, stride = heads * hd + 2 * kvHeads * hd;
            float[] qkv = Rand(r, (long)tokens * stride, 2f);
            var k = new ushort[(long)kvHeads * keyRows * hd];
            var vt = new ushort[(long)kvHeads * hd * keyRows];
            for (int h = 0; h < kvHeads; h++)
                for (int p = 0; p < keyRows; p++)
                    for (int d = 0; d < hd; d++)
                    {
                        // real rows, zero padding up to padded, stale (finite) rows beyond it
                        float kv = p >= length && p < padded ? 0f : (float)(r.NextDouble() * 2 - 1);
                        float vv = p >= length && p < padded ? 0f : (float)(r.NextDouble() * 2 - 1);
                        k[((long)h * keyRows + p) * hd + d] = NumberBits.ToBf16(kv);
                        vt[((long)h * hd + d) * keyRows + p] = NumberBits.ToBf16(vv);
                    }
            using var bq = c.Up(qkv); using var bk = c.Up(k); using var bv = c.Up(vt);
            using var bo = c.New<float>((long)tokens * heads * hd);
            float scale = 1f / MathF.Sqrt(hd);
            var a = new PrefillArgs
            {
                Heads = heads, KvHeads = kvHeads, HeadDim = hd, QkvStride = stride, Tokens = tokens, FirstPosition = first,
                Length = length, Padded = padded, KeyRows = keyRows, SlidingWindow = window, Scale = scale,
            };
            flash.Run((ulong)bq.NativePtr, (ulong)bk.NativePtr, (ulong)bv.NativePtr, (ulong)bo.NativePtr, a, c.B.StreamPointer);
            float[] got = c.Down(bo, (long)tokens * heads * hd);
            var checkedTokens = Enumerable.Range(0, tokens).Where(t => t % 13 == 0 || t == tokens - 1).ToArray();
            var e = new float[checkedTokens.Length * heads * hd];
            var gotRows = new float[e.Length];
            var w = new double[length];
            for (int i = 0; i < checkedTokens.Length; i++)
            {
                int t = checkedTokens[i], pos = first + t, lo = window > 0 ? Math.Max(0, pos - window + 1) : 0;
                for (int h = 0; h < heads; h++)
                {
                    int kvh = h / g;
                    double max = double.NegativeInfinity;
                    for (int p = lo; p <= pos; p++)
                    {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double)qkv[(long)t * stride + h * hd + d] * NumberBits.FromBf16(k[((long)kvh * keyRows + p) * hd + d]);
                        w[p] = dot * scale;
                        max = Math.Max(max, w[p]);
                    }
                    double sum = 0;
                    for (int p = lo; p <= pos; p++) sum += w[p] = Math.Exp(w[p] - max);
                    for (int d = 0; d < hd; d++)
                    {
                        double o = 0;
                        for (int p = lo; p <= pos; p++) o += w[p] * NumberBits.FromBf16(vt[((long)kvh * hd + d) * keyRows + p]);
                        e[((long)i * heads + h) * hd + d] = (float)(o / sum);
                        gotRows[((long)i * heads + h) * hd + d] = got[((long)t * heads + h) * hd + d];
                    }
                }
            }
            yield return new($"flash-attention-prefill hd{hd}" + (window > 0 ? $" window {window}" : ""), "max |Δ| / max |expected|", RelErr(e, gotRows), 1e-2,
                $"{tokens} tokens at {first}..{length - 1}, {heads}/{kvHeads} heads, {checkedTokens.Length} tokens compared");
        }
    }

    /// <summary>
    /// The FP8 GEMV (decode's one-row products) on every E4M3 code but NaN, subnormals included (an F32 path that
    /// flushed subnormals would show here), against a double product of the decoded weights.
    /// </summary>
    private static CheckResult GemvCheck(Ctx c, Sizes s, Random r, bool native = false)
    {
        // the native kernel at an odd row count (the last warp's rows past the end) and 16-column rows of a length
        // that leaves a tail after the kernel's 1,024-column steps
        int n = native ? s.MatN - 3 : s.MatN, k = native ? s.MatK + 528 : s.MatK;
        var codes = new byte[(long)n * k];
        for (long i = 0; i < codes.Length; i++)
        {
            int v;
            do v = r.Next(256); while ((v & 0x7F) == 0x7F);
            codes[i] = (byte)v;
        }
        float[] x = Rand(r, k, 2f);
        const float scale = 0.0123f;
        using var w = new DeviceMatrix(c.B.Accelerator, DeviceFormat.Fp8E4M3, n, k, perChannel: false);
        ((ArrayView<byte>)w.Data.View).CopyFromCPU(codes);
        ((ArrayView<float>)w.Scale.View).CopyFromCPU([scale]);
        using var bx = c.Up(x); using var y = c.New<float>(n);
        c.B.Synchronize();
        if (native)
        {
            Fp8GemvNativeKernel kernel = c.B.Fp8GemvNative
                ?? throw new InvalidOperationException($"the native FP8 GEMV is unavailable: {c.B.Fp8GemvNativeUnavailable}");
            kernel.Run(w, (ulong)bx.NativePtr, (ulong)y.NativePtr, c.B.StreamPointer);
        }
        else
            c.K.Fp8Gemv(w, bx.View, y.View);
        float[] got = c.Down(y, n);
        var table = new double[256];
        for (int i = 0; i < 256; i++) table[i] = Fp8E4M3.Decode((byte)i) * (double)scale;
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double acc = 0, mag = 0;
            for (int e = 0; e < k; e++)
            {
                double p = table[codes[(long)i * k + e]] * x[e];
                acc += p;
                mag += Math.Abs(p);
            }
            worst = Math.Max(worst, Math.Abs(acc - got[i]) / Math.Max(mag, 1e-30));
        }
        return new(native ? "gemv-fp8e4m3-native" : "gemv-fp8e4m3", "max |Δ| / Σ|x·w|", worst, 2e-5, $"1 × n={n} k={k}, every code but NaN");
    }

    private static CheckResult MatMulCheck(Ctx c, Sizes s, Random r, DeviceFormat format)
    {
        int m = s.MatM, n = s.MatN, k = s.MatK;
        float[] x = Rand(r, (long)m * k, 4f), w = Rand(r, (long)n * k, 1f / MathF.Sqrt(k));
        using var wm = DeviceWeights.Upload(c.B, w, n, k, format, perChannel: false);
        using var bx = c.Up(x); using var xq = c.New<byte>((long)m * k * 2); using var xs = c.Up(new[] { 1f }); using var amax = c.New<int>(1);
        using var y = c.New<float>((long)m * n);
        if (format == DeviceFormat.BF16) c.K.ToBf16(bx.View, ((ArrayView<byte>)xq.View).Cast<ushort>(), m * k);
        else c.K.QuantizeE4M3(bx.View, xq.View, amax.View, xs.View, m * k);
        c.B.MatMul.MatMul(wm, xq, xs, m, y);
        float[] got = c.Down(y, (long)m * n);
        float[] wd = DeviceWeights.DecodeHost(w, n, k, format);
        var xd = new float[x.Length];
        if (format == DeviceFormat.BF16) for (int i = 0; i < x.Length; i++) xd[i] = BF16Conversion.ToSingle(BF16Conversion.FromSingle(x[i]));
        else
        {
            float sx = x.Max(MathF.Abs) / 448f;
            var codes = new byte[x.Length];
            Fp8E4M3.EncodeRow(x, sx, codes);
            Fp8E4M3.DecodeRowReference(codes, sx, xd);
        }
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0, mag = 0;
                for (int e = 0; e < k; e++)
                {
                    double p = (double)xd[i * k + e] * wd[j * k + e];
                    acc += p;
                    mag += Math.Abs(p);
                }
                worst = Math.Max(worst, Math.Abs(acc - got[i * n + j]) / Math.Max(mag, 1e-30));
            }
        // F32 accumulation: ~k·2⁻²⁴ of Σ|x·w| at worst; FP8 fast accumulation on Hopper keeps fewer bits
        double tol = format == DeviceFormat.BF16 ? 1e-4 : 2e-3;
        return new($"matmul-{format.ToString().ToLowerInvariant()}-{c.B.MatMul.Name}", "max |Δ| / Σ|x·w|", worst, tol, $"m={m} n={n} k={k}");
    }
}
