using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// Activation rows converted ahead of a product (<see cref="MatMul.ConvertActivationRow"/>, row by row, in any order, as
/// the decoder's row loops do) and the product called with <c>converted: true</c> must give the bits of the product's
/// own conversion: the fused (Q/K/V-style) and single products and the gated feed-forward, for the GEMM formats and
/// the others, odd m and widths, on pools of 1 and 2 threads, above and below the inline threshold.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class MatMulConvertedTests
{
    public static TheoryData<WeightFormat, int, int, int> ProductCases()
    {
        var data = new TheoryData<WeightFormat, int, int, int>();
        foreach (int threads in new[] { 1, 2 })
        {
            data.Add(WeightFormat.Q4_0, 768, threads, 16);   // a 16-stream step of the 160M model (activations on the pool)
            data.Add(WeightFormat.Q4_0, 608, threads, 13);   // odd m, a partial panel group
            data.Add(WeightFormat.Q8_0, 800, threads, 3);    // activations inline, product on the pool
            data.Add(WeightFormat.Q8_0, 96, threads, 1);     // inline
            data.Add(WeightFormat.Q4_0, 768, threads, 1);    // one-token decode
            data.Add(WeightFormat.Q4_K, 768, threads, 5);    // K-quant GEMM (prepared layout)
            data.Add(WeightFormat.Q6_K, 256, threads, 1);    // K-quant rows
            data.Add(WeightFormat.F16, 96, threads, 1);      // F16 rows (scaled copy after the activation)
            data.Add(WeightFormat.F16, 160, threads, 7);     // F16 GEMM
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProductCases))]
    public void Converted_rows_give_the_bits_of_the_products_own_conversion(WeightFormat format, int cols, int threads, int m)
    {
        using var pool = new WorkerPool(threads);
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var k = KernelRegistry.VecDot(format);
        int r0 = 2 * cols + 16, r1 = cols / 2 + 16, r2 = cols / 2 + 16;
        using var w0 = Region(MatMulSharedInputTests.RandomMatrix(rng, format, r0, cols));
        using var w1 = Region(MatMulSharedInputTests.RandomMatrix(rng, format, r1, cols));
        using var w2 = Region(MatMulSharedInputTests.RandomMatrix(rng, format, r2, cols));
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var scratch = GC.AllocateArray<byte>((int)MatMul.ScratchBytes(k, m, cols), pinned: true);

        float[] e0 = new float[m * r0], e1 = new float[m * r1], e2 = new float[m * r2], single = new float[m * r0];
        MatMul.Compute(k, cols, x, m, w0, 0, r0, e0, w1, 0, r1, e1, w2, 0, r2, e2, scratch, pool);
        MatMul.Compute(k, w0, 0, r0, cols, x, m, single, scratch, pool);

        float[] a0 = new float[m * r0], a1 = new float[m * r1], a2 = new float[m * r2], a3 = new float[m * r0];
        var poison = new float[m * cols];
        poison.AsSpan().Fill(float.NaN);   // converted: x is not read
        Convert(k, cols, m, x, scratch);
        MatMul.Compute(k, k, k, cols, poison, m, w0, 0, r0, a0, w1, 0, r1, a1, w2, 0, r2, a2, scratch, pool, converted: true);
        Convert(k, cols, m, x, scratch);
        MatMul.Compute(k, w0, 0, r0, cols, poison, m, a3, scratch, pool, converted: true);
        string what = $"{format} cols={cols} m={m} threads={threads} (seed {seed})";
        AssertBits(e0, a0, what);
        AssertBits(e1, a1, what);
        AssertBits(e2, a2, what);
        AssertBits(e0, single, what);
        AssertBits(single, a3, what);
    }

    public static TheoryData<WeightFormat, WeightFormat, int, int, int, int> GatedCases()
    {
        var data = new TheoryData<WeightFormat, WeightFormat, int, int, int, int>();
        foreach (int threads in new[] { 1, 2 })
        {
            data.Add(WeightFormat.Q4_0, WeightFormat.Q4_0, 768, 3072, threads, 16);   // the 160M's 16-stream feed-forward
            data.Add(WeightFormat.Q4_0, WeightFormat.Q8_0, 256, 1184, threads, 13);   // odd m, partial tile and group
            data.Add(WeightFormat.Q8_0, WeightFormat.Q4_0, 96, 544, threads, 3);      // activations inline
            data.Add(WeightFormat.Q4_0, WeightFormat.Q4_0, 768, 3072, threads, 1);    // one token
            data.Add(WeightFormat.Q4_K, WeightFormat.Q6_K, 768, 1280, threads, 1);    // K-quants, one token
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GatedCases))]
    public void Converted_rows_give_the_gated_feed_forwards_bits(WeightFormat guFormat, WeightFormat downFormat, int cols, int hidden, int threads, int m)
    {
        using var pool = new WorkerPool(threads);
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var gu = KernelRegistry.VecDot(guFormat);
        var dk = KernelRegistry.VecDot(downFormat);
        int rows = cols;
        using var rg = Region(MatMulSharedInputTests.RandomMatrix(rng, guFormat, hidden, cols));
        using var ru = Region(MatMulSharedInputTests.RandomMatrix(rng, guFormat, hidden, cols));
        using var rd = Region(MatMulSharedInputTests.RandomMatrix(rng, downFormat, rows, hidden));
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var scratch = GC.AllocateArray<byte>((int)MatMul.GatedScratchBytes(gu, dk, m, cols, hidden), pinned: true);
        var expected = new float[m * rows];
        MatMul.ComputeGated(gu, dk, m, cols, hidden, x, rg, 0, ru, 0, rd, 0, rows, false, expected, scratch, pool);
        var actual = new float[m * rows];
        var poison = new float[m * cols];
        poison.AsSpan().Fill(float.NaN);
        Convert(gu, cols, m, x, scratch);
        MatMul.ComputeGated(gu, dk, m, cols, hidden, poison, rg, 0, ru, 0, rd, 0, rows, false, actual, scratch, pool, converted: true);
        AssertBits(expected, actual, $"{guFormat}/{downFormat} {cols}x{hidden} m={m} threads={threads} (seed {seed})");
    }

    [Fact]
    public void Convert_checks_its_arguments()
    {
        var k = KernelRegistry.VecDot(WeightFormat.Q4_0);
        var scratch = new byte[MatMul.ScratchBytes(k, 2, 64)];
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.ConvertActivationRow(k, 64, 2, 2, new float[64], scratch));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.ConvertActivationRow(k, 64, 2, -1, new float[64], scratch));
        Assert.Throws<ArgumentException>(() => MatMul.ConvertActivationRow(k, 64, 2, 0, new float[63], scratch));
        Assert.Throws<ArgumentException>(() => MatMul.ConvertActivationRow(k, 64, 3, 0, new float[64], scratch));
    }

    /// <summary>Every row converted on its own, last row first (the order the rows' producers finish does not matter).</summary>
    private static void Convert(IVecDotKernel k, int cols, int m, float[] x, byte[] scratch)
    {
        scratch.AsSpan().Fill(0xA5);   // no stale bytes of an earlier conversion survive
        for (int t = m - 1; t >= 0; t--) MatMul.ConvertActivationRow(k, cols, m, t, x.AsSpan(t * cols, cols), scratch);
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what} element {i}: own conversion {expected[i]:R}, converted rows {actual[i]:R}");
    }

    private static NativeBuffer Region(byte[] bytes)
    {
        var r = new NativeBuffer(bytes.Length);
        bytes.CopyTo(r.Write(0, bytes.Length));
        return r;
    }
}
