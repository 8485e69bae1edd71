using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// <see cref="MatMul.ComputeGated"/>
/// (the gated feed-forward of 1 to 16 tokens, each 512 hidden columns' activation and Q8_0 / Q8_K conversion on the
/// thread that computed them) must have the bits of the separate steps: the fused gate/up product, the activation over
/// each whole row, then the down product, on pools of 1 and 2 threads, above and below the inline threshold, with the
/// activations converted inline and on the pool, for SiLU and tanh-GELU, the GEMM formats and (one token) the K-quants.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class MatMulGatedTests
{
    public static TheoryData<WeightFormat, WeightFormat, int, int, bool, int, int> Cases()
    {
        var data = new TheoryData<WeightFormat, WeightFormat, int, int, bool, int, int>();
        foreach (int threads in new[] { 1, 2 })
        {
            data.Add(WeightFormat.Q4_0, WeightFormat.Q4_0, 768, 3072, false, threads, 1);   // pool (above MatMul.InlineWork)
            data.Add(WeightFormat.Q8_0, WeightFormat.Q4_0, 256, 608, true, threads, 1);     // 19 tiles: odd, a partial panel group
            data.Add(WeightFormat.Q4_0, WeightFormat.Q8_0, 64, 96, false, threads, 1);      // inline
            data.Add(WeightFormat.Q4_0, WeightFormat.Q4_0, 768, 3072, false, threads, 16);  // a 16-stream decode step of the 160M model
            data.Add(WeightFormat.Q4_0, WeightFormat.Q8_0, 256, 1184, true, threads, 13);   // odd m, a partial last tile and panel group
            data.Add(WeightFormat.Q8_0, WeightFormat.Q4_0, 96, 544, false, threads, 3);     // activations converted inline, gate/up on the pool
            data.Add(WeightFormat.Q8_0, WeightFormat.Q8_0, 64, 96, true, threads, 2);       // inline
            // K-quants (one token): Q8_K activations, 512-column tiles of two 256-value blocks
            data.Add(WeightFormat.Q4_K, WeightFormat.Q6_K, 768, 3072, false, threads, 1);   // pool, a Q4_K_M file's mix
            data.Add(WeightFormat.Q4_K, WeightFormat.Q4_K, 256, 1280, true, threads, 1);    // 3 tiles, the last of 256 columns
            data.Add(WeightFormat.Q6_K, WeightFormat.Q4_K, 256, 256, false, threads, 1);    // inline
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gated_equals_separate_steps_bit_for_bit(WeightFormat guFormat, WeightFormat downFormat, int cols, int hidden, bool gelu, int threads, int m)
    {
        using var pool = new WorkerPool(threads);
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var gu = KernelRegistry.VecDot(guFormat);
        var dk = KernelRegistry.VecDot(downFormat);
        Assert.True(MatMul.SupportsGated(gu, dk, hidden));
        int rows = cols;
        byte[] wg = MatMulSharedInputTests.RandomMatrix(rng, guFormat, hidden, cols), wu = MatMulSharedInputTests.RandomMatrix(rng, guFormat, hidden, cols),
            wd = MatMulSharedInputTests.RandomMatrix(rng, downFormat, rows, hidden);
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);

        // the separate steps, as the decoder runs them for more tokens
        var scratch = new byte[Math.Max(MatMul.ScratchBytes(gu, m, cols), MatMul.ScratchBytes(dk, m, hidden))];
        var g = new float[m * hidden];
        var u = new float[m * hidden];
        var expected = new float[m * rows];
        using var rg = Region(wg);
        using var ru = Region(wu);
        using var rd = Region(wd);
        MatMul.Compute(gu, cols, x, m, rg, 0, hidden, g, ru, 0, hidden, u, null, 0, 0, default, scratch, pool);
        for (int t = 0; t < m; t++)
            if (gelu) GeGlu.Forward(g.AsSpan(t * hidden, hidden), u.AsSpan(t * hidden, hidden), g.AsSpan(t * hidden, hidden));
            else SwiGlu.Forward(g.AsSpan(t * hidden, hidden), u.AsSpan(t * hidden, hidden), g.AsSpan(t * hidden, hidden));
        MatMul.Compute(dk, wd, rows, hidden, g, m, expected, scratch, pool);

        var actual = new float[m * rows + 1];
        actual.AsSpan().Fill(float.NaN);
        var gs = new byte[MatMul.GatedScratchBytes(gu, dk, m, cols, hidden)];
        MatMul.ComputeGated(gu, dk, m, cols, hidden, x, rg, 0, ru, 0, rd, 0, rows, gelu, actual, gs, pool);
        for (int i = 0; i < m * rows; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{guFormat}/{downFormat} {cols}x{hidden} m={m} gelu={gelu} threads={threads} token {i / rows} row {i % rows}: separate {expected[i]:R}, gated {actual[i]:R} (seed {seed})");
        Assert.True(float.IsNaN(actual[m * rows]));
    }

    [Fact]
    public void Gated_path_needs_gemm_or_k_quant_formats_and_enough_scratch()
    {
        Assert.False(MatMul.SupportsGated(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q4_0), 256));
        Assert.False(MatMul.SupportsGated(KernelRegistry.VecDot(WeightFormat.Q4_0), KernelRegistry.VecDot(WeightFormat.Q6_K), 256));
        Assert.True(MatMul.SupportsGated(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q6_K), 256));
        Assert.False(MatMul.SupportsGated(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q6_K), 384));   // not whole Q8_K blocks
        Assert.False(MatMul.SupportsGated(KernelRegistry.VecDot(WeightFormat.F16), KernelRegistry.VecDot(WeightFormat.F16), 256));
        var k = KernelRegistry.VecDot(WeightFormat.Q8_0);
        using var pool = new WorkerPool(1);
        using var w = new NativeBuffer(64 * k.WeightRowBytes(64));
        var scratch = new byte[MatMul.GatedScratchBytes(k, k, 1, 64, 64) - 1];
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGated(k, k, 1, 64, 64, new float[64], w, 0, w, 0, w, 0, 64, false, new float[64], scratch, pool));
        var scratch2 = new byte[MatMul.GatedScratchBytes(k, k, 2, 64, 64)];
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGated(k, k, 2, 64, 64, new float[127], w, 0, w, 0, w, 0, 64, false, new float[128], scratch2, pool));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.ComputeGated(k, k, MatMul.GatedMaxRows + 1, 64, 64, new float[64 * 17], w, 0, w, 0, w, 0, 64, false,
            new float[64 * 17], new byte[MatMul.GatedScratchBytes(k, k, 17, 64, 64)], pool));
        // K-quant rows are whole 256-value super-blocks (the row size check refuses 128 columns)
        var kq = KernelRegistry.VecDot(WeightFormat.Q4_K);
        using var wk = new NativeBuffer(256 * kq.WeightRowBytes(256));
        var ks = new byte[MatMul.GatedScratchBytes(kq, kq, 1, 256, 256)];
        Assert.ThrowsAny<ArgumentException>(() => MatMul.ComputeGated(kq, kq, 1, 128, 256, new float[256], wk, 0, wk, 0, wk, 0, 128, false, new float[256], ks, pool));
        // K-quants take one token only
        var ks16 = new byte[MatMul.GatedScratchBytes(kq, kq, 2, 256, 256)];
        Assert.ThrowsAny<ArgumentException>(() => MatMul.ComputeGated(kq, kq, 2, 256, 256, new float[512], wk, 0, wk, 0, wk, 0, 256, false, new float[512], ks16, pool));
        Assert.False(MatMul.SupportsGated(kq, kq, 256, 2));
        Assert.True(MatMul.SupportsGated(kq, kq, 256, 1));
    }

    [Fact]
    public void Gated_path_is_preferred_for_one_token_or_tiles_that_split_evenly()
    {
        Assert.True(MatMul.PrefersGated(1, 5632, 2));      // one token: always (11 tiles)
        Assert.True(MatMul.PrefersGated(16, 3072, 2));     // 6 tiles on 2 threads
        Assert.True(MatMul.PrefersGated(4, 3072, 3));
        Assert.False(MatMul.PrefersGated(16, 5632, 2));    // 11 tiles: one thread would run a tile more
        Assert.False(MatMul.PrefersGated(2, 3072, 4));
        Assert.False(MatMul.PrefersGated(MatMul.GatedMaxRows + 1, 3072, 2));
    }

    private static NativeBuffer Region(byte[] bytes)
    {
        var r = new NativeBuffer(bytes.Length);
        bytes.CopyTo(r.Write(0, bytes.Length));
        return r;
    }
}
