using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// <see cref="MatMul.ComputeGated"/> (one token's gated feed-forward, each tile of hidden columns' activation and
/// Q8_0 / Q8_K conversion on the thread that computed them) must have the bits of the separate steps: the fused
/// gate/up product, the activation over the whole row, then the down product, on pools of 1 and 2 threads, above and
/// below the inline threshold, for SiLU and tanh-GELU, the GEMM formats and the K-quants.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class MatMulGatedTests
{
    public static TheoryData<WeightFormat, WeightFormat, int, int, bool, int> Cases()
    {
        var data = new TheoryData<WeightFormat, WeightFormat, int, int, bool, int>();
        foreach (int threads in new[] { 1, 2 })
        {
            data.Add(WeightFormat.Q4_0, WeightFormat.Q4_0, 768, 3072, false, threads);   // pool (above MatMul.InlineWork)
            data.Add(WeightFormat.Q8_0, WeightFormat.Q4_0, 256, 608, true, threads);     // 19 tiles: odd, a partial panel group
            data.Add(WeightFormat.Q4_0, WeightFormat.Q8_0, 64, 96, false, threads);      // inline
            // K-quants: Q8_K activations, 512-column tiles of two 256-value blocks
            data.Add(WeightFormat.Q4_K, WeightFormat.Q6_K, 768, 3072, false, threads);   // pool, a Q4_K_M file's mix
            data.Add(WeightFormat.Q4_K, WeightFormat.Q4_K, 256, 1280, true, threads);    // 3 tiles, the last of 256 columns
            data.Add(WeightFormat.Q6_K, WeightFormat.Q4_K, 256, 256, false, threads);    // inline
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gated_equals_separate_steps_bit_for_bit(WeightFormat guFormat, WeightFormat downFormat, int cols, int hidden, bool gelu, int threads)
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
        var x = new float[cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);

        // the separate steps, as the decoder runs them for several tokens
        var scratch = new byte[Math.Max(MatMul.ScratchBytes(gu, 1, cols), MatMul.ScratchBytes(dk, 1, hidden))];
        var g = new float[hidden];
        var u = new float[hidden];
        var expected = new float[rows];
        using var rg = Region(wg);
        using var ru = Region(wu);
        using var rd = Region(wd);
        MatMul.Compute(gu, cols, x, 1, rg, 0, hidden, g, ru, 0, hidden, u, null, 0, 0, default, scratch, pool);
        if (gelu) GeGlu.Forward(g, u, g);
        else SwiGlu.Forward(g, u, g);
        MatMul.Compute(dk, wd, rows, hidden, g, 1, expected, scratch, pool);

        var actual = new float[rows + 1];
        actual.AsSpan().Fill(float.NaN);
        var gs = new byte[MatMul.GatedScratchBytes(gu, dk, cols, hidden)];
        MatMul.ComputeGated(gu, dk, cols, hidden, x, rg, 0, ru, 0, rd, 0, rows, gelu, actual, gs, pool);
        for (int r = 0; r < rows; r++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[r]) == BitConverter.SingleToInt32Bits(actual[r]),
                $"{guFormat}/{downFormat} {cols}x{hidden} gelu={gelu} threads={threads} row {r}: separate {expected[r]:R}, gated {actual[r]:R} (seed {seed})");
        Assert.True(float.IsNaN(actual[rows]));
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
        var scratch = new byte[MatMul.GatedScratchBytes(k, k, 64, 64) - 1];
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGated(k, k, 64, 64, new float[64], w, 0, w, 0, w, 0, 64, false, new float[64], scratch, pool));
        // K-quant rows are whole 256-value super-blocks (the row size check refuses 128 columns)
        var kq = KernelRegistry.VecDot(WeightFormat.Q4_K);
        using var wk = new NativeBuffer(256 * kq.WeightRowBytes(256));
        var ks = new byte[MatMul.GatedScratchBytes(kq, kq, 256, 256)];
        Assert.ThrowsAny<ArgumentException>(() => MatMul.ComputeGated(kq, kq, 128, 256, new float[256], wk, 0, wk, 0, wk, 0, 128, false, new float[256], ks, pool));
    }

    private static NativeBuffer Region(byte[] bytes)
    {
        var r = new NativeBuffer(bytes.Length);
        bytes.CopyTo(r.Write(0, bytes.Length));
        return r;
    }
}
