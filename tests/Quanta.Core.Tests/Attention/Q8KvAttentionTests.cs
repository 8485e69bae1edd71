using Quanta.Core.Kernels.Attention;
using Quanta.Core.Tests.Ops;

namespace Quanta.Core.Tests.Attention;

/// <summary>The Q8_0 KV cache format (<see cref="KvQ8"/>) and the attention kernels reading it.</summary>
[Trait("Category", "Kernels")]
public class Q8KvAttentionTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(96)]
    [InlineData(4096 + 64)]   // longer than one chunk of the SIMD quantizer
    public void Quantize_matches_the_scalar_reference(int n)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var x = OpsTestUtil.RandomArray(rng, n, -3f, 3f);
        if (n > 32)
        {
            x.AsSpan(0, 32).Clear();                              // an all-zero group: scale 0, codes 0
            x[40] = 1e-6f;                                        // a group whose scale is an F16 subnormal
            for (int i = 41; i < 64; i++) x[i] = (i % 2 == 0 ? 1 : -1) * 1e-7f * i;
            for (int i = 64; i < 96; i++) x[i] = (i - 64) * 0.5f; // evenly spaced values: every code magnitude from 0 to 127 in steps
        }
        var c = new sbyte[n]; var s = new float[n / 32];
        var cr = new sbyte[n]; var sr = new float[n / 32];
        KvQ8.Quantize(x, c, s);
        KvQ8.QuantizeReference(x, cr, sr);
        Assert.Equal(cr, c);
        Assert.Equal(sr, s);
        // every scale is an F16 value; dequantized values are within half a step (+ the scale's F16 rounding) of x
        var back = new float[n];
        KvQ8.Dequantize(c, s, back);
        for (int g = 0; g < n / 32; g++)
        {
            Assert.Equal(s[g], (float)(Half)s[g]);
            float amax = 0; for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs(x[g * 32 + i]));
            for (int i = 0; i < 32; i++)
                Assert.True(Math.Abs(back[g * 32 + i] - x[g * 32 + i]) <= amax / 254 + amax * 1e-3 + 1e-30, $"seed {seed} g {g} i {i}");
        }
    }

    public static TheoryData<int, int, int, int, float, int, float> Cases() => new()
    {
        // heads, kvHeads, headDim (a multiple of 32), p0, scale(0=default), window, softcap
        { 4, 4, 64, 0, 0f, 0, 0f },
        { 8, 2, 64, 37, 0f, 0, 0f },
        { 6, 1, 32, 100, 0f, 0, 0f },        // two 16-column chunks
        { 8, 4, 128, 20, 0.0625f, 16, 0f },
        { 4, 2, 96, 33, 0f, 3, 0f },         // a 64-column slab and a 32-column one; window shorter than a row block
        { 4, 2, 32, 9, 0f, 5, 30f },
        { 4, 4, 64, 20, 0f, 6, 0f },
    };

    /// <summary>Attention over a Q8_0 cache gives the bits of an F32 cache holding the dequantized values (the kernels
    /// dequantize exactly and then run the F32 arithmetic) for prefill chunks, single rows, grouped heads, contiguous and
    /// paged layouts; and it stays within a bound derived from the quantization error of the F32 cache of the original
    /// values.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Q8_cache_equals_f32_of_dequantized_values_and_is_close_to_f32(int heads, int kvHeads, int headDim, int p0, float scale, int window, float cap)
    {
        int seed = OpsTestUtil.NewSeed();
        var rng = new Random(seed);
        var p = new AttentionParameters(heads, kvHeads, headDim) { Scale = scale, SlidingWindow = window, SoftCap = cap };
        const int nTokens = 7;
        int length = p0 + nTokens, rowKv = kvHeads * headDim, rowQ = heads * headDim;
        var q = OpsTestUtil.RandomArray(rng, nTokens * rowQ, -1.5f, 1.5f);
        var k = OpsTestUtil.RandomArray(rng, length * rowKv, -2f, 2f);
        var v = OpsTestUtil.RandomArray(rng, length * rowKv, -2f, 2f);
        var k8 = new sbyte[k.Length]; var v8 = new sbyte[v.Length];
        var ks = new float[k.Length / 32]; var vs = new float[v.Length / 32];
        KvQ8.Quantize(k, k8, ks);
        KvQ8.Quantize(v, v8, vs);
        var kd = new float[k.Length]; var vd = new float[v.Length];
        KvQ8.Dequantize(k8, ks, kd);
        KvQ8.Dequantize(v8, vs, vd);
        string m = $"seed {seed} H {heads} KH {kvHeads} d {headDim} p0 {p0} W {window} cap {cap}";
        var scratch = new float[CausalAttention.ScratchLength(length, headDim)];

        var expected = new float[q.Length];
        CausalAttention.Forward<float, ContiguousKvView<float>>(q, nTokens, p0, new ContiguousKvView<float>(kd, vd, length, kvHeads, headDim), p, expected, scratch);
        var o8 = new float[q.Length];
        CausalAttention.Forward<sbyte, ContiguousKvView<sbyte>>(q, nTokens, p0, new ContiguousKvView<sbyte>(k8, v8, ks, vs, length, kvHeads, headDim), p, o8, scratch);
        OpsTestUtil.Identical(expected, o8, "contiguous q8 " + m);

        foreach (int bs in new[] { 1, 3, 16, 64 })
        {
            var (kp, vp, ksp, vsp, table) = Page(k8, v8, ks, vs, length, rowKv, bs, rng);
            var op = new float[q.Length];
            CausalAttention.Forward<sbyte, PagedKvView<sbyte>>(q, nTokens, p0, new PagedKvView<sbyte>(kp, vp, ksp, vsp, table, bs, length, kvHeads, headDim, headMajor: false), p, op, scratch);
            OpsTestUtil.Identical(expected, op, $"paged q8 bs {bs} {m}");
            // decode rows: each token alone over a cache of its own length, each KV head's query heads together
            int last = nTokens - 1, pos = p0 + last, group = heads / kvHeads, size = CausalAttention.HeadGroup(heads, kvHeads);
            var view = new PagedKvView<sbyte>(kp, vp, ksp, vsp, table, bs, pos + 1, kvHeads, headDim, headMajor: false);
            var oh = new float[rowQ];
            for (int h = 0; h < heads; h += size)
                CausalAttention.ForwardHeads<sbyte, PagedKvView<sbyte>>(q.AsSpan(last * rowQ + h * headDim), size, pos, h, view, p, oh.AsSpan(h * headDim), scratch);
            OpsTestUtil.Identical(expected.AsSpan(last * rowQ, rowQ), oh, $"heads q8 bs {bs} {m}");
            Assert.True(group % size == 0);
        }

        // vs the F32 cache of the original values: per element |Δk| ≤ εk, |Δv| ≤ εv (half a step, amax/254, plus the
        // scale's F16 rounding); a score moves by at most δ = scale·Σ|q|·εk (soft-capping only shrinks it), so each
        // softmax weight by a factor within e^(±2δ) and the output by at most εv + max|v|·(e^(2δ) − 1)
        var o32 = new float[q.Length];
        CausalAttention.Forward<float, ContiguousKvView<float>>(q, nTokens, p0, new ContiguousKvView<float>(k, v, length, kvHeads, headDim), p, o32, scratch);
        double ek = MaxError(k, kd), ev = MaxError(v, vd), sc = p.EffectiveScale;
        for (int t = 0; t < nTokens; t++)
            for (int h = 0; h < heads; h++)
            {
                double l1 = 0;
                for (int i = 0; i < headDim; i++) l1 += Math.Abs(q[t * rowQ + h * headDim + i]);
                double delta = sc * l1 * ek, tol = ev + 2 * (Math.Exp(2 * delta) - 1) + 1e-4;
                for (int i = 0; i < headDim; i++)
                {
                    int j = t * rowQ + h * headDim + i;
                    Assert.True(Math.Abs(o8[j] - o32[j]) <= tol, $"{m} t {t} h {h} i {i}: {o8[j]} vs {o32[j]} (tol {tol})");
                }
            }
    }

    [Fact]
    public void Q8_cache_needs_head_dim_a_multiple_of_32()
    {
        var codes = new sbyte[48]; var scales = new float[1];
        Assert.Throws<ArgumentException>(() => new ContiguousKvView<sbyte>(codes, codes, scales, scales, 1, 1, 48));
    }

    private static double MaxError(float[] x, float[] y)
    {
        double e = 0;
        for (int i = 0; i < x.Length; i++) e = Math.Max(e, Math.Abs(x[i] - y[i]));
        return e;
    }

    private static (sbyte[] kp, sbyte[] vp, float[] ksp, float[] vsp, int[] table) Page(sbyte[] k, sbyte[] v, float[] ks, float[] vs,
        int length, int rowElems, int blockSize, Random rng)
    {
        int blocks = (length + blockSize - 1) / blockSize, pool = blocks + 3;
        var table = Enumerable.Range(0, pool).OrderBy(_ => rng.Next()).Take(blocks).ToArray();
        var kp = new sbyte[pool * blockSize * rowElems]; var vp = new sbyte[kp.Length];
        var ksp = new float[kp.Length / 32]; var vsp = new float[kp.Length / 32];
        for (int pos = 0; pos < length; pos++)
        {
            int dst = (table[pos / blockSize] * blockSize + pos % blockSize) * rowElems, src = pos * rowElems;
            Array.Copy(k, src, kp, dst, rowElems);
            Array.Copy(v, src, vp, dst, rowElems);
            Array.Copy(ks, src / 32, ksp, dst / 32, rowElems / 32);
            Array.Copy(vs, src / 32, vsp, dst / 32, rowElems / 32);
        }
        return (kp, vp, ksp, vsp, table);
    }
}
