using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;
using Quanta.Core.Tests.Ops;

namespace Quanta.Core.Tests.Attention;

[Trait("Category", "Kernels")]
public class AttentionTests
{
    /// <summary>Naive attention in double from first principles. k, v: [positions, kvHeads, d].</summary>
    private static double[] Naive(float[] q, int nTokens, int p0, float[] k, float[] v, AttentionParameters p)
    {
        int H = p.Heads, KH = p.KvHeads, d = p.HeadDim;
        var o = new double[nTokens * H * d];
        double scale = p.Scale != 0 ? p.Scale : 1 / Math.Sqrt(d);
        for (int t = 0; t < nTokens; t++)
            for (int h = 0; h < H; h++)
            {
                int pos = p0 + t, kh = h / (H / KH);
                int lo = p.SlidingWindow > 0 ? Math.Max(0, pos - p.SlidingWindow + 1) : 0;
                var s = new double[pos - lo + 1];
                double max = double.NegativeInfinity;
                for (int j = lo; j <= pos; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double)q[(t * H + h) * d + i] * k[(j * KH + kh) * d + i];
                    dot *= scale;
                    if (p.SoftCap > 0) dot = p.SoftCap * Math.Tanh(dot / p.SoftCap);
                    s[j - lo] = dot;
                    max = Math.Max(max, dot);
                }
                double sum = 0;
                for (int j = 0; j < s.Length; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
                for (int j = lo; j <= pos; j++)
                    for (int i = 0; i < d; i++) o[(t * H + h) * d + i] += s[j - lo] / sum * v[(j * KH + kh) * d + i];
            }
        return o;
    }

    private static float[] Run<T>(float[] q, int nTokens, int p0, T[] k, T[] v, int length, AttentionParameters p) where T : unmanaged
    {
        var o = new float[q.Length];
        var scratch = new float[CausalAttention.ScratchLength(length, p.HeadDim)];
        CausalAttention.Forward<T, ContiguousKvView<T>>(q, nTokens, p0, new ContiguousKvView<T>(k, v, length, p.KvHeads, p.HeadDim), p, o, scratch);
        return o;
    }

    /// <summary>Copies a contiguous cache into a shuffled block pool with the given block size; returns the view pieces.</summary>
    private static (T[] kp, T[] vp, int[] table) Page<T>(T[] k, T[] v, int length, int rowElems, int blockSize, Random rng)
    {
        int blocks = (length + blockSize - 1) / blockSize;
        int pool = blocks + 3;
        var perm = Enumerable.Range(0, pool).OrderBy(_ => rng.Next()).ToArray();
        var table = perm.Take(blocks).ToArray();
        var kp = new T[pool * blockSize * rowElems];
        var vp = new T[pool * blockSize * rowElems];
        for (int pos = 0; pos < length; pos++)
        {
            int dst = (table[pos / blockSize] * blockSize + pos % blockSize) * rowElems;
            Array.Copy(k, pos * rowElems, kp, dst, rowElems);
            Array.Copy(v, pos * rowElems, vp, dst, rowElems);
        }
        return (kp, vp, table);
    }

    public static TheoryData<int, int, int, int, float, int, float> Cases() => new()
    {
        // heads, kvHeads, headDim, p0, scale(0=default), window, softcap
        { 4, 4, 64, 0, 0f, 0, 0f },      // prefill from 0, MHA
        { 8, 2, 64, 37, 0f, 0, 0f },     // GQA, chunk after a prefix
        { 6, 1, 40, 100, 0f, 0, 0f },    // MQA, odd head dim
        { 8, 4, 128, 20, 0.0625f, 16, 0f }, // sliding window
        { 4, 2, 32, 50, 0f, 0, 50f },    // soft-capping (Gemma 2)
        { 4, 2, 32, 9, 0f, 5, 30f },     // both
        { 2, 2, 3, 4, 0f, 0, 0f },       // tiny head dim (scalar tails)
        { 4, 4, 80, 30, 0f, 0, 0f },     // AVX-512 path: a 64-column slab and a 16-column one
        { 4, 2, 48, 33, 0f, 3, 0f },     // window shorter than a row block: the block's rows attend different ranges
        { 4, 4, 64, 20, 0f, 6, 0f },     // head dim 64 with a window: the four-row pass-1 path and its per-row fallback
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_naive_double_and_is_layout_and_batch_invariant(int heads, int kvHeads, int headDim, int p0, float scale, int window, float cap)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var p = new AttentionParameters(heads, kvHeads, headDim) { Scale = scale, SlidingWindow = window, SoftCap = cap };
        const int nTokens = 7;
        int length = p0 + nTokens;
        int rowKv = kvHeads * headDim;
        var q = OpsTestUtil.RandomArray(rng, nTokens * heads * headDim, -1.5f, 1.5f);
        // F16 cache values; the F32 cache holds exactly the same numbers
        var kh = new Half[length * rowKv]; var vh = new Half[length * rowKv];
        for (int i = 0; i < kh.Length; i++) { kh[i] = (Half)(rng.NextDouble() * 4 - 2); vh[i] = (Half)(rng.NextDouble() * 4 - 2); }
        var k = kh.Select(h => (float)h).ToArray(); var v = vh.Select(h => (float)h).ToArray();
        string m = $"seed {seed} H {heads} KH {kvHeads} d {headDim} p0 {p0} W {window} cap {cap}";

        var o32 = Run(q, nTokens, p0, k, v, length, p);
        // tolerance vs double: float dot/exp/sum rounding, outputs are O(1): 2e-5 absolute (+ soft-cap tanh ~1e-7·cap)
        var e = Naive(q, nTokens, p0, k, v, p);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(o32[i] - e[i]) <= 2e-5 + 1e-6 * cap, $"{m} i {i}: {o32[i]} vs {e[i]}");

        // F16 cache gives identical bits (exact conversion)
        OpsTestUtil.Identical(o32, Run(q, nTokens, p0, kh, vh, length, p), "f16 " + m);

        // paged caches with several block sizes give identical bits
        foreach (int bs in new[] { 1, 3, 16, 64 })
        {
            var (kp, vp, table) = Page(k, v, length, rowKv, bs, rng);
            var op = new float[q.Length];
            var scratch = new float[CausalAttention.ScratchLength(length, headDim)];
            CausalAttention.Forward<float, PagedKvView<float>>(q, nTokens, p0, new PagedKvView<float>(kp, vp, table, bs, length, kvHeads, headDim), p, op, scratch);
            OpsTestUtil.Identical(o32, op, $"paged bs {bs} {m}");
            var (khp, vhp, tableh) = Page(kh, vh, length, rowKv, bs, rng);
            CausalAttention.Forward<Half, PagedKvView<Half>>(q, nTokens, p0, new PagedKvView<Half>(khp, vhp, tableh, bs, length, kvHeads, headDim), p, op, scratch);
            OpsTestUtil.Identical(o32, op, $"paged f16 bs {bs} {m}");
        }

        // batch invariance: each token alone (cache truncated to its own position + 1) gives the same bits
        int rowQ = heads * headDim;
        for (int t = 0; t < nTokens; t++)
        {
            var qt = q.AsSpan(t * rowQ, rowQ).ToArray();
            var alone = Run(qt, 1, p0 + t, k, v, p0 + t + 1, p);
            OpsTestUtil.Identical(o32.AsSpan(t * rowQ, rowQ), alone, $"alone t {t} {m}");
        }
    }

    /// <summary>ForwardHeads (one token, the query heads of one KV head together) gives each head the bits of ForwardRow
    /// on that head alone, for every group split, F32 and F16, contiguous and paged caches.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardHeads_matches_ForwardRow_per_head(int heads, int kvHeads, int headDim, int p0, float scale, int window, float cap)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var p = new AttentionParameters(heads, kvHeads, headDim) { Scale = scale, SlidingWindow = window, SoftCap = cap };
        int length = p0 + 21, rowKv = kvHeads * headDim, rowQ = heads * headDim, group = heads / kvHeads;
        var q = OpsTestUtil.RandomArray(rng, rowQ, -1.5f, 1.5f);
        var kh = new Half[length * rowKv]; var vh = new Half[length * rowKv];
        for (int i = 0; i < kh.Length; i++) { kh[i] = (Half)(rng.NextDouble() * 4 - 2); vh[i] = (Half)(rng.NextDouble() * 4 - 2); }
        var k = kh.Select(h => (float)h).ToArray(); var v = vh.Select(h => (float)h).ToArray();
        var scratch = new float[CausalAttention.ScratchLength(length, headDim)];
        var (kp, vp, table) = Page(k, v, length, rowKv, 3, rng);
        var (khp, vhp, tableh) = Page(kh, vh, length, rowKv, 16, rng);
        foreach (int pos in new[] { 0, 1, 15, 16, 17, length - 1 })
        {
            var expected = new float[rowQ];
            var cv = new ContiguousKvView<float>(k, v, length, kvHeads, headDim);
            for (int h = 0; h < heads; h++)
                CausalAttention.ForwardRow<float, ContiguousKvView<float>>(q.AsSpan(h * headDim, headDim), pos, h, cv, p, expected.AsSpan(h * headDim, headDim), scratch);
            for (int size = 1; size <= Math.Min(group, CausalAttention.RowBlock); size++)
            {
                string m = $"seed {seed} H {heads} KH {kvHeads} d {headDim} pos {pos} size {size} W {window} cap {cap}";
                var o = new float[rowQ]; var o16 = new float[rowQ]; var op = new float[rowQ]; var op16 = new float[rowQ];
                for (int g = 0; g < kvHeads; g++)
                    for (int h = g * group; h < (g + 1) * group; h += size)
                    {
                        int n = Math.Min(size, (g + 1) * group - h);
                        CausalAttention.ForwardHeads<float, ContiguousKvView<float>>(q.AsSpan(h * headDim), n, pos, h, cv, p, o.AsSpan(h * headDim), scratch);
                        CausalAttention.ForwardHeads<Half, ContiguousKvView<Half>>(q.AsSpan(h * headDim), n, pos, h,
                            new ContiguousKvView<Half>(kh, vh, length, kvHeads, headDim), p, o16.AsSpan(h * headDim), scratch);
                        CausalAttention.ForwardHeads<float, PagedKvView<float>>(q.AsSpan(h * headDim), n, pos, h,
                            new PagedKvView<float>(kp, vp, table, 3, length, kvHeads, headDim), p, op.AsSpan(h * headDim), scratch);
                        CausalAttention.ForwardHeads<Half, PagedKvView<Half>>(q.AsSpan(h * headDim), n, pos, h,
                            new PagedKvView<Half>(khp, vhp, tableh, 16, length, kvHeads, headDim), p, op16.AsSpan(h * headDim), scratch);
                    }
                OpsTestUtil.Identical(expected, o, "f32 " + m);
                OpsTestUtil.Identical(expected, o16, "f16 " + m);
                OpsTestUtil.Identical(expected, op, "paged f32 " + m);
                OpsTestUtil.Identical(expected, op16, "paged f16 " + m);
            }
        }
        if (group > 1 && kvHeads > 1)   // heads group−1 and group straddle two KV heads
            Assert.Throws<ArgumentException>(() => CausalAttention.ForwardHeads<float, ContiguousKvView<float>>(q.AsSpan((group - 1) * headDim), 2, 0, group - 1,
                new ContiguousKvView<float>(k, v, length, kvHeads, headDim), p, new float[rowQ], scratch));
    }

    [Fact]
    public void Single_position_returns_its_value_and_equal_keys_average()
    {
        var p = new AttentionParameters(1, 1, 4);
        float[] q = [1, 2, 3, 4];
        float[] k = [5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8];
        float[] v = [1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400];
        var o = Run(q, 1, 0, k, v, 1, p);
        Assert.Equal([1f, 2f, 3f, 4f], o);
        o = Run(q, 1, 2, k, v, 3, p);   // identical keys: uniform weights
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(o[i] - (v[i] + v[4 + i] + v[8 + i]) / 3.0) <= 1e-4, $"i {i}: {o[i]}");
    }

    [Fact]
    public void Half_conversion_is_exact_for_every_value()
    {
        var all = new Half[65536 + 5];
        for (int i = 0; i < all.Length; i++) all[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var a = new float[all.Length]; var r = new float[all.Length];
        F16Conversion.ToSingleRow(MemoryMarshal.Cast<Half, ushort>(all), a);
        for (int i = 0; i < all.Length; i++) r[i] = (float)all[i];   // the runtime's conversion as reference
        for (int i = 0; i < all.Length; i++)
        {
            if (float.IsNaN(r[i])) { Assert.True(float.IsNaN(a[i]), $"index {i}"); continue; }
            Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(r[i]), $"half bits {i:X4}: {a[i]:R} vs {r[i]:R}");
        }
        // odd lengths (tails)
        for (int n = 1; n <= 70; n++)
        {
            var o = new float[n];
            F16Conversion.ToSingleRow(MemoryMarshal.Cast<Half, ushort>(all.AsSpan(15000, n)), o);
            for (int i = 0; i < n; i++) Assert.Equal((float)all[15000 + i], o[i]);
        }
    }

    /// <summary>Every F16 code (zeros, subnormals, normals, ±Inf, NaN) as a value row of a one-position cache comes out
    /// of the kernel as its exact F32 value (softmax weight 1), through the decode path's F16 loads (the finite fast
    /// decode and the full one a row with an Inf/NaN takes), one head and a GQA group of four.</summary>
    [Fact]
    public void Half_values_pass_through_exactly()
    {
        const int d = 64;
        var p = new AttentionParameters(4, 1, d);
        var kh = new Half[d];
        var scratch = new float[CausalAttention.ScratchLength(1, d)];
        var q = new float[4 * d];
        var o = new float[4 * d];
        for (int start = 0; start < 65536; start += d)
        {
            var vh = new Half[d];
            for (int i = 0; i < d; i++) vh[i] = BitConverter.UInt16BitsToHalf((ushort)(start + i));
            var view = new ContiguousKvView<Half>(kh, vh, 1, 1, d);
            CausalAttention.ForwardRow<Half, ContiguousKvView<Half>>(q.AsSpan(0, d), 0, 0, view, p, o.AsSpan(0, d), scratch);
            for (int i = 0; i < d; i++) Check(o[i], (float)vh[i], start + i);
            CausalAttention.ForwardHeads<Half, ContiguousKvView<Half>>(q, 4, 0, 0, view, p, o, scratch);
            for (int h = 0; h < 4; h++)
                for (int i = 0; i < d; i++) Check(o[h * d + i], (float)vh[i], start + i);
        }

        static void Check(float actual, float value, int code)
        {
            float expected = value + 0f;   // the weighted sum starts from +0, so −0 comes out as +0
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"code {code:X4}");
            else Assert.True(BitConverter.SingleToInt32Bits(actual) == BitConverter.SingleToInt32Bits(expected), $"code {code:X4}: {actual:R} vs {expected:R}");
        }
    }

    [Fact]
    public void Dot_matches_reference()
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        foreach (int n in OpsTestUtil.Lengths)
        {
            var a = OpsTestUtil.RandomArray(rng, n, -1f, 1f);
            var b = OpsTestUtil.RandomArray(rng, n, -1f, 1f);
            double abs = 0; for (int i = 0; i < n; i++) abs += Math.Abs((double)a[i] * b[i]);
            float s = Dot.Compute(a, b), r = Dot.ComputeReference(a, b);
            Assert.True(Math.Abs(s - r) <= 1e-6 * abs + 1e-7, $"seed {seed} n {n}: {s} vs {r}");
        }
    }

}

/// <summary>
/// Allocation checks run alone (no parallel tests), with <see cref="KernelPaths"/> recording switched off during the
/// measurement: when recording is on, the shared KernelPaths.Record allocates a closure per call.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Quanta allocation checks (run alone)";
}

[Trait("Category", "Kernels")]
[Collection(AllocationCollection.Name)]
public class AttentionAllocationTests
{
    [Fact]
    public void Attention_allocates_nothing()
    {
        bool recording = KernelPaths.Enabled;
        KernelPaths.Enabled = false;
        try { Measure(); }
        finally { KernelPaths.Enabled = recording; }
    }

    [Fact]
    public void Ops_allocate_nothing()
    {
        bool recording = KernelPaths.Enabled;
        KernelPaths.Enabled = false;
        try
        {
            var rng = new Random(2);
            var x = OpsTestUtil.RandomArray(rng, 300); var w = OpsTestUtil.RandomArray(rng, 300); var y = new float[300];
            var rp = new RopeParameters(64, RopeLayout.NeoX);
            var cache = new RopeCache(rp, 8);
            var halves = new Half[300];
            void Go()
            {
                Silu.Forward(x, y); Gelu.Forward(x, y); Gelu.ForwardErf(x, y); SwiGlu.Forward(x, w, y); GeGlu.Forward(x, w, y);
                Add.Forward(x, w, y); Mul.Forward(x, w, y); Scale.Forward(x, 0.5f, y); AddScaled.Forward(0.5f, x, y);
                RmsNorm.Forward(x, w, y, 1e-5f); LayerNorm.Forward(x, w, w, y, 1e-5f); Softmax.Forward(x, y, 0.5f, 30f);
                Argmax.Find(x); Dot.Compute(x, w); F16Conversion.ToSingleRow(MemoryMarshal.Cast<Half, ushort>(halves), y);
                Rope.ApplyDirect(y, 4, 64, rp, default, 5); cache.Apply(y, 4, 64, 7);
            }
            for (int i = 0; i < 300; i++) Go();
            SteadyAllocation.AssertNone(() => { for (int i = 0; i < 100; i++) Go(); });
        }
        finally { KernelPaths.Enabled = recording; }
    }

    private static void Measure()
    {
        var p = new AttentionParameters(4, 2, 64);
        var rng = new Random(1);
        var q = OpsTestUtil.RandomArray(rng, 3 * 4 * 64);
        var k = OpsTestUtil.RandomArray(rng, 40 * 2 * 64);
        var v = OpsTestUtil.RandomArray(rng, 40 * 2 * 64);
        var o = new float[q.Length];
        var scratch = new float[CausalAttention.ScratchLength(40, 64)];
        var pool = k.Concat(k).ToArray(); var vpool = v.Concat(v).ToArray();
        int[] table = [3, 1, 4, 0, 2];
        void Go()
        {
            CausalAttention.Forward<float, ContiguousKvView<float>>(q, 3, 37, new ContiguousKvView<float>(k, v, 40, 2, 64), p, o, scratch);
            CausalAttention.Forward<float, PagedKvView<float>>(q, 3, 37, new PagedKvView<float>(pool, vpool, table, 16, 40, 2, 64), p, o, scratch);
        }
        for (int i = 0; i < 300; i++) Go();   // past tiered-JIT promotion
        SteadyAllocation.AssertNone(() => { for (int i = 0; i < 20; i++) Go(); });
    }
}
