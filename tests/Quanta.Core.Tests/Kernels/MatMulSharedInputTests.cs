using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The fused <see cref="MatMul"/> overload (up to three matrices sharing x and a format, one activation conversion, one
/// pool loop): every output must have the bits of a separate single-matrix call, for the GEMM (Q4_0, Q8_0), K-quant
/// (Q4_K, Q6_K) and F16 paths, at m = 1 and m &gt; 1, with row counts that leave partial 16-row tiles, on a 2-thread pool.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class MatMulSharedInputTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    public static TheoryData<WeightFormat, int> Cases()
    {
        var data = new TheoryData<WeightFormat, int>();
        foreach (var f in new[] { WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.Q4_K, WeightFormat.Q6_K, WeightFormat.F16 })
            foreach (int m in new[] { 1, 5 })
                data.Add(f, m);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_outputs_equal_separate_calls_bit_for_bit(WeightFormat format, int m)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(format);
        // 1024 columns: 304 rows x 1024 x m is above MatMul.InlineWork, so the pool runs; 203 and 37 leave partial tiles
        const int cols = 1024;
        int[] rows = [203, 37, 64];
        var weights = new byte[3][];
        for (int j = 0; j < 3; j++) weights[j] = RandomMatrix(rng, format, rows[j], cols);
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i / cols);
        var scratch = new byte[MatMul.ScratchBytes(kernel, m, cols)];

        var separate = new float[3][];
        for (int j = 0; j < 3; j++)
        {
            separate[j] = new float[m * rows[j]];
            MatMul.Compute(kernel, weights[j], rows[j], cols, x, m, separate[j], scratch, _pool);
        }

        // three sets, pointer overload, outputs with a row stride wider than the matrix
        var fused = new float[3][];
        for (int j = 0; j < 3; j++) { fused[j] = new float[m * (rows[j] + 3)]; fused[j].AsSpan().Fill(float.NaN); }
        fixed (byte* w0 = weights[0]) fixed (byte* w1 = weights[1]) fixed (byte* w2 = weights[2])
        fixed (float* y0 = fused[0]) fixed (float* y1 = fused[1]) fixed (float* y2 = fused[2])
        fixed (float* px = x) fixed (byte* s = scratch)
            MatMul.Compute(kernel, cols, px, cols, m, w0, rows[0], y0, rows[0] + 3, w1, rows[1], y1, rows[1] + 3,
                w2, rows[2], y2, rows[2] + 3, s, _pool);
        for (int j = 0; j < 3; j++)
            for (int t = 0; t < m; t++)
                for (int r = 0; r < rows[j]; r++)
                    AssertSameBits(separate[j][t * rows[j] + r], fused[j][t * (rows[j] + 3) + r], $"{format} m={m} matrix {j} token {t} row {r} (seed {seed})");

        // two sets, region overload (the Models entry point), the third skipped
        using var r0 = new NativeBuffer(weights[0].Length);
        using var r1 = new NativeBuffer(weights[1].Length);
        weights[0].CopyTo(r0.Write(0, weights[0].Length));
        weights[1].CopyTo(r1.Write(0, weights[1].Length));
        var a = new float[m * rows[0]];
        var b = new float[m * rows[1]];
        MatMul.Compute(kernel, cols, x, m, r0, 0, rows[0], a, r1, 0, rows[1], b, null, 0, 0, default, scratch, _pool);
        for (int i = 0; i < a.Length; i++) AssertSameBits(separate[0][i], a[i], $"{format} m={m} two-set matrix 0 element {i} (seed {seed})");
        for (int i = 0; i < b.Length; i++) AssertSameBits(separate[1][i], b[i], $"{format} m={m} two-set matrix 1 element {i} (seed {seed})");
    }

    [Fact]
    public void Region_overload_checks_the_output_length()
    {
        var kernel = KernelRegistry.VecDot(WeightFormat.Q8_0);
        const int cols = 64;
        using var w = new NativeBuffer(4 * kernel.WeightRowBytes(cols));
        var x = new float[cols];
        var scratch = new byte[MatMul.ScratchBytes(kernel, 1, cols)];
        Assert.Throws<ArgumentException>(() =>
            MatMul.Compute(kernel, cols, x, 1, w, 0, 4, new float[4], w, 0, 4, new float[3], null, 0, 0, default, scratch, _pool));
    }

    [Fact]
    public void Mixed_formats_fuse_only_as_k_quants()
    {
        Assert.True(MatMul.SharesActivation(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q6_K), 1));
        Assert.True(MatMul.SharesActivation(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q6_K), 4));
        Assert.False(MatMul.SharesActivation(KernelRegistry.VecDot(WeightFormat.Q4_K), KernelRegistry.VecDot(WeightFormat.Q8_0), 1));
        var q8 = KernelRegistry.VecDot(WeightFormat.Q8_0);
        var q4k = KernelRegistry.VecDot(WeightFormat.Q4_K);
        const int cols = 256;
        using var w = new NativeBuffer(4 * Math.Max(q4k.WeightRowBytes(cols), q8.WeightRowBytes(cols)));
        var scratch = new byte[MatMul.ScratchBytes(q8, 1, cols)];
        Assert.Throws<ArgumentException>(() =>
            MatMul.Compute(q8, q4k, q8, cols, new float[cols], 1, w, 0, 4, new float[4], w, 0, 4, new float[4], null, 0, 0, default, scratch, _pool));
    }

    [Theory]
    [InlineData(1, 2)] [InlineData(5, 2)] [InlineData(16, 2)] [InlineData(16, 0)] [InlineData(9, 1)]
    public void Mixed_k_quant_sets_equal_separate_calls_bit_for_bit(int m, int q6Set)
    {
        // a K-quant file's Q4_K Q and K with its Q6_K V (set 2), and the Q6_K in the other places: one activation
        // conversion and one pool loop, each output with the bits of its own format's separate call
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        const int cols = 1024;
        int[] rows = [203, 37, 64];
        var formats = new WeightFormat[3];
        for (int j = 0; j < 3; j++) formats[j] = j == q6Set ? WeightFormat.Q6_K : WeightFormat.Q4_K;
        var kernels = formats.Select(KernelRegistry.VecDot).ToArray();
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i / cols);
        var scratch = new byte[kernels.Max(k => MatMul.ScratchBytes(k, m, cols))];
        var regions = new NativeBuffer[3];
        var separate = new float[3][];
        var fused = new float[3][];
        try
        {
            for (int j = 0; j < 3; j++)
            {
                byte[] w = RandomMatrix(rng, formats[j], rows[j], cols);
                regions[j] = new NativeBuffer(w.Length);
                w.CopyTo(regions[j].Write(0, w.Length));
                separate[j] = new float[m * rows[j]];
                MatMul.Compute(kernels[j], w, rows[j], cols, x, m, separate[j], scratch, _pool);
                fused[j] = new float[m * rows[j]];
            }
            MatMul.Compute(kernels[0], kernels[1], kernels[2], cols, x, m, regions[0], 0, rows[0], fused[0],
                regions[1], 0, rows[1], fused[1], regions[2], 0, rows[2], fused[2], scratch, _pool);
        }
        finally
        {
            foreach (var r in regions) r?.Dispose();
        }
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < fused[j].Length; i++)
                AssertSameBits(separate[j][i], fused[j][i], $"m={m} Q6_K in set {q6Set}: matrix {j} ({formats[j]}) element {i} (seed {seed})");
    }

    internal static byte[] RandomMatrix(Random rng, WeightFormat format, int rows, int cols)
    {
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        int rb = (int)kernel.WeightRowBytes(cols);
        var weights = new byte[rows * rb];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            double scale = Math.Pow(10, rng.Next(-2, 2));
            for (int c = 0; c < cols; c++) row[c] = (float)((rng.NextDouble() * 2 - 1) * scale);
            codec.Quantize(row, weights.AsSpan(r * rb, rb));
        }
        return weights;
    }

    private static void AssertSameBits(float expected, float actual, string what) =>
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"{what}: separate {expected:R}, fused {actual:R}");
}
