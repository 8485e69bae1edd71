using ILGPU;
using ILGPU.Runtime;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Attention;
using Quanta.Core.Kernels.Ops;
using Quanta.Cuda.Device;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Tests;

/// <summary>Shared CPU-simulated backend (ILGPU's CPU accelerator); kernel compilation is paid once.</summary>
public sealed class BackendFixture : IDisposable
{
    public GpuBackend Backend { get; } = GpuBackend.CreateCpuSimulation();

    public void Dispose() => Backend.Dispose();
}

/// <summary>
/// Each ILGPU kernel on ILGPU's CPU accelerator against Quanta.Core's CPU kernels on fresh random inputs (the seed is in
/// every assertion message). Tolerances: conversions and element-wise ops bit-exact (same float operations); reductions
/// (RMSNorm, attention, matrix product) relative 1e-5 of the row scale, since only the summation order differs.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class KernelTests(BackendFixture fx) : IClassFixture<BackendFixture>
{
    private GpuKernels K => fx.Backend.Kernels;
    private Accelerator A => fx.Backend.Accelerator;

    private static float[] Rand(Random r, int n, float a = 1f) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * a).ToArray();

    private MemoryBuffer1D<T, Stride1D.Dense> Up<T>(T[] data) where T : unmanaged
    {
        var b = A.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);
        return b;
    }

    private static T[] Down<T>(MemoryBuffer1D<T, Stride1D.Dense> b, int n) where T : unmanaged
    {
        var r = new T[n];
        b.View.SubView(0, n).CopyToCPU(r);
        return r;
    }

    private static void Close(float expected, float actual, float tol, string what)
    {
        Assert.True(MathF.Abs(expected - actual) <= tol, $"{what}: expected {expected}, got {actual} (tolerance {tol})");
    }

    [Fact]
    public void RmsNorm_matches_Core_reference_and_gathers_rows()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int rows = 5, dim = 165;   // odd, and long enough for the kernel's four-deep unrolled loop
        float[] x = Rand(r, rows * dim, 3f), w = Rand(r, dim);
        int[] map = [4, 1, 1];
        using var bx = Up(x); using var bw = Up(w); using var by = A.Allocate1D<float>(rows * dim); using var bm = Up(map);
        K.RmsNorm(bx.View, bw.View, by.View, rows, dim, 1e-5f);
        float[] y = Down(by, rows * dim);
        K.RmsNorm(bx.View, bw.View, by.View, map.Length, dim, 1e-5f, bm.View);
        float[] g = Down(by, map.Length * dim);
        var expected = new float[dim];
        for (int i = 0; i < rows; i++)
        {
            RmsNorm.ForwardReference(x.AsSpan(i * dim, dim), w, expected, 1e-5f);
            for (int j = 0; j < dim; j++) Close(expected[j], y[i * dim + j], 1e-5f * (1 + MathF.Abs(expected[j])), $"seed {seed} row {i} col {j}");
        }
        for (int o = 0; o < map.Length; o++)
        {
            RmsNorm.ForwardReference(x.AsSpan(map[o] * dim, dim), w, expected, 1e-5f);
            for (int j = 0; j < dim; j++) Close(expected[j], g[o * dim + j], 1e-5f * (1 + MathF.Abs(expected[j])), $"seed {seed} gathered {o}");
        }
        // the BF16 variant is the F32 result rounded to nearest even, gathered rows too
        using var b16 = A.Allocate1D<ushort>(rows * dim);
        K.RmsNormToBf16(bx.View, bw.View, b16.View, map.Length, dim, 1e-5f, bm.View);
        ushort[] h = Down(b16, map.Length * dim);
        for (int i = 0; i < map.Length * dim; i++)
            Assert.True(BF16Conversion.FromSingle(g[i]) == h[i], $"seed {seed} element {i}: bf16 {h[i]:X4}, rounded F32 {BF16Conversion.FromSingle(g[i]):X4}");
    }

    [Fact]
    public void Fused_residual_add_norm_gives_the_same_FP8_codes_and_scale_as_add_then_norm_then_quantize()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int dim = 203;
        float[] x = Rand(r, dim, 3f), res = Rand(r, dim, 2f), w = Rand(r, dim);
        // separate kernels: add, norm (F32), quantize
        using var bx1 = Up(x); using var bres = Up(res); using var bw = Up(w); using var by = A.Allocate1D<float>(dim);
        K.Add(bx1.View, bres.View, dim);
        K.RmsNorm(bx1.View, bw.View, by.View, 1, dim, 1e-5f);
        using var q1 = A.Allocate1D<byte>(dim); using var amax = A.Allocate1D<int>(1); using var s1 = A.Allocate1D<float>(1);
        K.QuantizeE4M3(by.View, q1.View, amax.View, s1.View, dim);
        // fused: add inside the norm, codes and scale from the same group
        using var bx2 = Up(x); using var q2 = A.Allocate1D<byte>(dim); using var s2 = A.Allocate1D<float>(1);
        K.Norm(bx2.View, bw.View, bres.View, 2, default, default, q2.View, s2.View, 1, dim, 1e-5f, null);
        float[] sumSeparate = Down(bx1, dim), sumFused = Down(bx2, dim);
        for (int i = 0; i < dim; i++) Assert.Equal(sumSeparate[i], sumFused[i]);
        Assert.Equal(Down(s1, 1)[0], Down(s2, 1)[0]);
        byte[] c1 = Down(q1, dim), c2 = Down(q2, dim);
        int differ = 0;
        for (int i = 0; i < dim; i++) if (c1[i] != c2[i]) differ++;
        Assert.True(differ == 0, $"seed {seed}: {differ} of {dim} codes differ between fused and separate");
        Assert.Throws<ArgumentOutOfRangeException>(() => K.Norm(bx2.View, bw.View, null, 2, default, default, q2.View, s2.View, 2, dim / 2, 1e-5f, null));
    }

    [Theory]
    [InlineData(RopeLayout.Normal, false)]
    [InlineData(RopeLayout.NeoX, false)]
    [InlineData(RopeLayout.NeoX, true)]
    public void Rope_is_bit_identical_to_Core_with_the_same_tables(RopeLayout layout, bool llama3)
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int tokens = 4, heads = 3, hd = 16, nRot = 12, stride = heads * hd + 8, col = 8, maxPos = 40;
        var p = new RopeParameters(nRot, layout, 500000f);
        float[] ff = new float[nRot / 2];
        if (llama3) RopeScaling.Llama3FrequencyFactors(nRot, p.FreqBase, 8f, 1f, 4f, 8192, ff);
        var c = new float[maxPos * nRot];
        var s = new float[maxPos * nRot];
        var cos = new float[nRot / 2];
        var sin = new float[nRot / 2];
        for (int pos = 0; pos < maxPos; pos++)
        {
            Rope.ComputeCosSin(p, llama3 ? ff : default, pos, cos, sin);
            Rope.ExpandTables(layout, cos, sin, c.AsSpan(pos * nRot, nRot), s.AsSpan(pos * nRot, nRot));
        }
        float[] x = Rand(r, tokens * stride, 2f);
        int[] positions = Enumerable.Range(0, tokens).Select(_ => r.Next(maxPos)).ToArray();
        using var bx = Up(x); using var bp = Up(positions); using var bc = Up(c); using var bs = Up(s);
        K.Rope(bx.View, bp.View, bc.View, bs.View, tokens, stride, col, heads, hd, nRot, layout == RopeLayout.NeoX);
        float[] got = Down(bx, x.Length);
        for (int t = 0; t < tokens; t++)
        {
            var row = x.AsSpan(t * stride + col, heads * hd).ToArray();
            Rope.Apply(row, heads, hd, nRot, layout, c.AsSpan(positions[t] * nRot, nRot), s.AsSpan(positions[t] * nRot, nRot));
            for (int j = 0; j < row.Length; j++)
                Assert.True(row[j] == got[t * stride + col + j], $"seed {seed} token {t} elem {j}: {row[j]} vs {got[t * stride + col + j]}");
            for (int j = 0; j < col; j++) Assert.Equal(x[t * stride + j], got[t * stride + j]);   // other columns untouched
        }
    }

    [Fact]
    public void Conversions_are_bit_identical_to_Core_BF16_and_E4M3()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        // wide magnitudes, E4M3 edge cases (subnormals, ties, overflow, NaN, ±inf, ±0)
        var x = new List<float>();
        for (int i = 0; i < 3000; i++) x.Add((float)((r.NextDouble() * 2 - 1) * Math.Pow(2, r.Next(-14, 12))));
        x.AddRange([0f, -0f, 448f, 464f, 465f, 480f, -500f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1f / 1024, 3f / 1024,
            1.5f / 512, 2.5f / 512, 0.0146484375f, 1.0625f, 1.1875f, 240f, 248f, 15.5f]);
        for (int b = 0; b < 256; b++) if ((b & 0x7F) != 0x7F) x.Add(Fp8E4M3.Decode((byte)b));
        float[] xs = x.ToArray();
        int n = xs.Length;
        using var bx = Up(xs); using var b16 = A.Allocate1D<ushort>(n); using var bf = A.Allocate1D<float>(n);
        K.ToBf16(bx.View, b16.View, n);
        ushort[] h = Down(b16, n);
        K.FromBf16(b16.View, bf.View, n);
        float[] back = Down(bf, n);
        for (int i = 0; i < n; i++)
        {
            Assert.True(BF16Conversion.FromSingle(xs[i]) == h[i], $"seed {seed}: bf16({xs[i]:R}) = {h[i]:X4}, Core {BF16Conversion.FromSingle(xs[i]):X4}");
            Assert.Equal(BitConverter.SingleToUInt32Bits(BF16Conversion.ToSingle(h[i])), BitConverter.SingleToUInt32Bits(back[i]));
        }
        // E4M3 with a scale of exactly amax/448 (finite values only: the amax must be finite)
        float[] finite = xs.Where(float.IsFinite).ToArray();
        int m = finite.Length;
        using var bfin = Up(finite); using var q = A.Allocate1D<byte>(m); using var amax = A.Allocate1D<int>(1); using var scale = A.Allocate1D<float>(1);
        K.QuantizeE4M3(bfin.View, q.View, amax.View, scale.View, m);
        byte[] codes = Down(q, m);
        float sc = Down(scale, 1)[0];
        float expectedScale = finite.Max(MathF.Abs) / 448f;
        Assert.Equal(expectedScale, sc);
        var expected = new byte[m];
        Fp8E4M3.EncodeRow(finite, sc, expected);
        for (int i = 0; i < m; i++) Assert.True(expected[i] == codes[i], $"seed {seed}: e4m3({finite[i]:R}/{sc}) = {codes[i]:X2}, Core {expected[i]:X2}");
        // above GpuKernels.SmallQuantizeCount the buffer goes through the many-group amax and the elementwise kernel
        int reps = GpuKernels.SmallQuantizeCount / m + 2;
        float[] big = Enumerable.Range(0, reps).SelectMany(i => finite.Select(v => v * (1 + i % 3))).ToArray();
        using var bbig = Up(big); using var qbig = A.Allocate1D<byte>(big.Length); using var amaxBig = A.Allocate1D<int>(1); using var scaleBig = A.Allocate1D<float>(1);
        K.QuantizeE4M3(bbig.View, qbig.View, amaxBig.View, scaleBig.View, big.Length);
        float scBig = Down(scaleBig, 1)[0];
        Assert.Equal(big.Max(MathF.Abs) / 448f, scBig);
        var expectedBig = new byte[big.Length];
        Fp8E4M3.EncodeRow(big, scBig, expectedBig);
        Assert.True(expectedBig.AsSpan().SequenceEqual(Down(qbig, big.Length)), $"seed {seed}: large-buffer E4M3 codes differ from Core");
        using var dq = A.Allocate1D<float>(m);
        K.DequantizeE4M3(q.View, scale.View, dq.View, m);
        float[] deq = Down(dq, m);
        var expDeq = new float[m];
        Fp8E4M3.DecodeRowReference(expected, sc, expDeq);
        for (int i = 0; i < m; i++) Assert.Equal(expDeq[i], deq[i]);
        // unscaled codes of the special values, straight through the encoder
        float[] special = [float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, 500f, 464f];
        using var bs = Up(special); using var bq = A.Allocate1D<byte>(special.Length); using var one = Up(new[] { BitConverter.SingleToInt32Bits(448f) });
        using var s1 = A.Allocate1D<float>(1);
        K.QuantizeE4M3Raw(bs.View, one.View, bq.View, s1.View, special.Length);
        byte[] sq = Down(bq, special.Length);
        for (int i = 0; i < special.Length; i++) Assert.Equal(Fp8E4M3.Encode(special[i]), sq[i]);
    }

    [Fact]
    public void SwiGlu_residual_add_bias_embedding_and_argmax_match_Core()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int tokens = 3, ffn = 20, dim = 12, vocab = 50;
        float[] gu = Rand(r, tokens * 2 * ffn, 6f);
        using var bgu = Up(gu); using var by = A.Allocate1D<float>(tokens * ffn);
        K.SwiGlu(bgu.View, by.View, tokens, ffn);
        float[] y = Down(by, tokens * ffn);
        var e = new float[ffn];
        for (int t = 0; t < tokens; t++)
        {
            SwiGlu.ForwardReference(gu.AsSpan(t * 2 * ffn, ffn), gu.AsSpan(t * 2 * ffn + ffn, ffn), e);
            for (int j = 0; j < ffn; j++) Close(e[j], y[t * ffn + j], 2e-6f * (1 + MathF.Abs(e[j])), $"seed {seed} swiglu {t},{j}");
        }

        float[] a = Rand(r, 40), b = Rand(r, 40);
        using var ba = Up(a); using var bb = Up(b);
        K.Add(ba.View, bb.View, 40);
        float[] sum = Down(ba, 40);
        var es = new float[40];
        Add.ForwardReference(a, b, es);
        Assert.Equal(es, sum);

        float[] bias = Rand(r, 5);
        float[] m = Rand(r, 3 * 9);
        using var bm = Up(m); using var bbias = Up(bias);
        K.BiasAdd(bm.View, bbias.View, 3, 5, 9, 2);
        float[] mb = Down(bm, m.Length);
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 9; j++)
                Assert.Equal(j >= 2 && j < 7 ? m[t * 9 + j] + bias[j - 2] : m[t * 9 + j], mb[t * 9 + j]);

        ushort[] table = Rand(r, vocab * dim).Select(BF16Conversion.FromSingle).ToArray();
        int[] toks = [r.Next(vocab), r.Next(vocab), 0, vocab - 1];
        using var bt = Up(table); using var btok = Up(toks); using var bx = A.Allocate1D<float>(toks.Length * dim);
        K.Embedding(bt.View, btok.View, bx.View, toks.Length, dim, 2f);
        float[] x = Down(bx, toks.Length * dim);
        for (int t = 0; t < toks.Length; t++)
            for (int j = 0; j < dim; j++) Assert.Equal(BF16Conversion.ToSingle(table[toks[t] * dim + j]) * 2f, x[t * dim + j]);

        int rows = 4, n = 1000;
        float[] logits = Rand(r, rows * n, 10f);
        logits[2 * n + 17] = logits[2 * n + 900] = 50f;   // tie: the first wins
        using var bl = Up(logits); using var bi = A.Allocate1D<int>(rows);
        K.Argmax(bl.View, bi.View, rows, n);
        int[] idx = Down(bi, rows);
        for (int i = 0; i < rows; i++) Assert.True(Argmax.Find(logits.AsSpan(i * n, n)) == idx[i], $"seed {seed} row {i}");
        Assert.Equal(17, idx[2]);
    }

    // splitSize 0: the default (one split here); 4: 17 positions over 5 splits merged, with a window leaving early
    // splits empty
    [Theory]
    [InlineData(0, 0f, 0)]
    [InlineData(3, 0f, 0)]
    [InlineData(0, 5f, 0)]
    [InlineData(0, 0f, 4)]
    [InlineData(6, 5f, 4)]
    public void Paged_attention_with_KV_write_matches_Core_over_the_same_block_table(int window, float softCap, int splitSize)
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int heads = 4, kvHeads = 2, hd = 8, kvd = kvHeads * hd, bs = 4, numBlocks = 12, maxBlocks = 5, maxPos = maxBlocks * bs;
        int layers = 2, layer = 1, stride = heads * hd + 2 * kvd;
        long layerOff = (long)layer * numBlocks * bs * kvd;
        // two sequences with scrambled block tables; sequence s has len[s] positions, all written by the KV kernel
        int[][] tables = [[7, 2, 9, 4, 0], [3, 11, 5, 0, 0]];
        int[] len = [17, 9];
        int n = len.Sum();
        var tokSeq = new int[n];
        var pos = new int[n];
        var slots = new int[n];
        for (int s = 0, t = 0; s < 2; s++)
            for (int p = 0; p < len[s]; p++, t++)
            {
                tokSeq[t] = s; pos[t] = p; slots[t] = tables[s][p / bs] * bs + p % bs;
            }
        float[] qkv = Rand(r, n * stride, 2f);
        using var bq = Up(qkv); using var bslots = Up(slots); using var bt = Up(tables.SelectMany(x => x).ToArray());
        using var bseq = Up(tokSeq); using var bpos = Up(pos);
        using var kc = A.Allocate1D<ushort>(layers * numBlocks * bs * kvd); using var vc = A.Allocate1D<ushort>(layers * numBlocks * bs * kvd);
        kc.MemSetToZero(); vc.MemSetToZero();
        K.KvWrite(bq.View, bslots.View, kc.View, vc.View, n, stride, heads * hd, heads * hd + kvd, kvd, layerOff);
        using var scores = A.Allocate1D<float>(n * heads * GpuKernels.AttentionSplits(maxPos, splitSize > 0 ? splitSize : 64) * (hd + 2)); using var outB = A.Allocate1D<float>(n * heads * hd);
        var args = new AttentionArgs
        {
            Heads = heads, KvHeads = kvHeads, HeadDim = hd, QkvStride = stride, BlockSize = bs, MaxBlocks = maxBlocks, MaxPositions = maxPos,
            SlidingWindow = window, LayerOffset = layerOff, Scale = 1f / MathF.Sqrt(hd), SoftCap = softCap, SplitSize = splitSize,
        };
        K.Attention(bq.View, kc.View, vc.View, bt.View, bseq.View, bpos.View, scores.View, outB.View, n, args);
        float[] got = Down(outB, n * heads * hd);

        // the CPU side: the same pages (BF16-rounded K/V as F32) through Core's PagedKvView
        var k32 = new float[numBlocks * bs * kvd];
        var v32 = new float[numBlocks * bs * kvd];
        ushort[] kh = Down(kc, layers * numBlocks * bs * kvd), vh = Down(vc, layers * numBlocks * bs * kvd);
        for (int i = 0; i < k32.Length; i++) { k32[i] = BF16Conversion.ToSingle(kh[layerOff + i]); v32[i] = BF16Conversion.ToSingle(vh[layerOff + i]); }
        for (int t = 0; t < n; t++)
        {
            int s = tokSeq[t];
            float[] kr = qkv.AsSpan(t * stride + heads * hd, kvd).ToArray(), vr = qkv.AsSpan(t * stride + heads * hd + kvd, kvd).ToArray();
            for (int j = 0; j < kvd; j++)
            {
                Assert.Equal(BF16Conversion.ToSingle(BF16Conversion.FromSingle(kr[j])), k32[slots[t] * kvd + j]);
                Assert.Equal(BF16Conversion.ToSingle(BF16Conversion.FromSingle(vr[j])), v32[slots[t] * kvd + j]);
            }
            var view = new PagedKvView<float>(k32, v32, tables[s], bs, len[s], kvHeads, hd);
            var ap = new AttentionParameters(heads, kvHeads, hd) { Scale = args.Scale, SlidingWindow = window, SoftCap = softCap };
            var scratch = new float[CausalAttention.ScratchLength(maxPos, hd)];
            var e = new float[hd];
            for (int h = 0; h < heads; h++)
            {
                CausalAttention.ForwardRow<float, PagedKvView<float>>(qkv.AsSpan(t * stride + h * hd, hd), pos[t], h, view, ap, e, scratch);
                for (int j = 0; j < hd; j++)
                    Close(e[j], got[(t * heads + h) * hd + j], 2e-5f * (1 + MathF.Abs(e[j])), $"seed {seed} token {t} head {h} dim {j}");
            }
        }
    }

    [Theory]
    [InlineData(DeviceFormat.BF16)]
    [InlineData(DeviceFormat.Fp8E4M3)]
    public void Reference_matmul_matches_a_double_product_of_the_decoded_operands(DeviceFormat format)
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int m = 3, n = 7, k = 33;
        float[] x = Rand(r, m * k, 4f), w = Rand(r, n * k, 0.5f);
        using var wm = DeviceWeights.Upload(fx.Backend, w, n, k, format, perChannel: false);
        using var bx = Up(x); using var xq = A.Allocate1D<byte>(m * k * 2); using var xs = A.Allocate1D<float>(1); using var amax = A.Allocate1D<int>(1);
        using var y = A.Allocate1D<float>(m * n);
        float[] xd = new float[m * k];
        if (format == DeviceFormat.BF16)
        {
            K.ToBf16(bx.View, ((ArrayView<byte>)xq.View).Cast<ushort>(), m * k);
            xs.View.CopyFromCPU([1f]);
            for (int i = 0; i < xd.Length; i++) xd[i] = BF16Conversion.ToSingle(BF16Conversion.FromSingle(x[i]));
        }
        else
        {
            K.QuantizeE4M3(bx.View, xq.View, amax.View, xs.View, m * k);
            float sx = x.Max(MathF.Abs) / 448f;
            var codes = new byte[m * k];
            Fp8E4M3.EncodeRow(x, sx, codes);
            Fp8E4M3.DecodeRowReference(codes, sx, xd);
        }
        fx.Backend.MatMul.MatMul(wm, xq, xs, m, y);
        float[] got = Down(y, m * n);
        float[] wd = DeviceWeights.DecodeHost(w, n, k, format);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0, mag = 0;
                for (int e = 0; e < k; e++) { acc += (double)xd[i * k + e] * wd[j * k + e]; mag += Math.Abs((double)xd[i * k + e] * wd[j * k + e]); }
                Close((float)acc, got[i * n + j], (float)(1e-5 * mag + 1e-6), $"seed {seed} {format} y[{i},{j}]");
            }
    }

    // Every E4M3 code but NaN (subnormals, zeros, both signs, the largest) in the weights; rows odd so the last warp has
    // one row; columns with an odd count of 8-byte words per lane step
    [Theory]
    [InlineData(7, 40)]
    [InlineData(33, 264)]
    public void Fp8_gemv_matches_a_double_product_of_the_decoded_weights(int n, int k)
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        byte[] codes = Enumerable.Range(0, n * k).Select(_ => { int c; do c = r.Next(256); while ((c & 0x7F) == 0x7F); return (byte)c; }).ToArray();
        float[] x = Rand(r, k, 3f);
        float scale = 0.0123f;
        using var w = new DeviceMatrix(A, DeviceFormat.Fp8E4M3, n, k, perChannel: false);
        w.Data.View.CopyFromCPU(codes);
        w.Scale.View.CopyFromCPU([scale]);
        using var bx = Up(x); using var y = A.Allocate1D<float>(n);
        K.Fp8Gemv(w, bx.View, y.View);
        float[] got = Down(y, n);
        for (int i = 0; i < n; i++)
        {
            double acc = 0, mag = 0;
            for (int e = 0; e < k; e++)
            {
                double p = (double)Fp8E4M3.Decode(codes[i * k + e]) * scale * x[e];
                acc += p;
                mag += Math.Abs(p);
            }
            Close((float)acc, got[i], (float)(2e-5 * mag + 1e-30), $"seed {seed} row {i}");
        }
    }

    // The amax the producers fold in must be exactly max |y| of what they wrote (the same F32 values as without it)
    [Fact]
    public void Norm_and_SwiGlu_with_amax_write_the_same_values_and_their_exact_absolute_maximum()
    {
        int seed = Random.Shared.Next();
        var r = new Random(seed);
        int rows = 5, dim = 165, ffn = 301;
        float[] x = Rand(r, rows * dim, 3f), w = Rand(r, dim), res = Rand(r, rows * dim);
        using var bx1 = Up(x); using var bx2 = Up(x); using var bw = Up(w); using var bres = Up(res);
        using var y1 = A.Allocate1D<float>(rows * dim); using var y2 = A.Allocate1D<float>(rows * dim); using var amax = Up(new[] { 12345 });
        K.Norm(bx1.View, bw.View, bres.View, 0, y1.View, default, default, default, rows, dim, 1e-5f, null);
        K.Norm(bx2.View, bw.View, bres.View, 0, y2.View, default, default, default, rows, dim, 1e-5f, null, amax.View);
        float[] e = Down(y1, rows * dim), g = Down(y2, rows * dim);
        Assert.True(e.AsSpan().SequenceEqual(g), $"seed {seed}: the norm's values changed with the amax");
        Assert.Equal(e.Max(MathF.Abs), BitConverter.Int32BitsToSingle(Down(amax, 1)[0]));
        float[] gu = Rand(r, rows * 2 * ffn, 6f);
        using var bgu = Up(gu); using var s1 = A.Allocate1D<float>(rows * ffn); using var s2 = A.Allocate1D<float>(rows * ffn);
        K.SwiGlu(bgu.View, s1.View, rows, ffn);
        K.SwiGluWithAmax(bgu.View, s2.View, amax.View, rows, ffn);
        float[] se = Down(s1, rows * ffn), sg = Down(s2, rows * ffn);
        Assert.True(se.AsSpan().SequenceEqual(sg), $"seed {seed}: SwiGLU's values changed with the amax");
        Assert.Equal(se.Max(MathF.Abs), BitConverter.Int32BitsToSingle(Down(amax, 1)[0]));
    }
}
