using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// Batch 1 (decode) through <see cref="MatMul"/>: for every weight format a row's output at m = 1 has the same bits as the
/// format's defining single-row arithmetic (Q4_0/Q8_0: <see cref="Q8Gemm.Reference{TW}"/>; others: the kernel's Dot) and
/// as the same token inside a batch, on a matrix large enough for the pool to split its rows unevenly.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class MatMulDecodeTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    public static TheoryData<WeightFormat> AllFormats()
    {
        var data = new TheoryData<WeightFormat>();
        foreach (var f in KernelRegistry.Formats) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void One_token_equals_the_single_row_arithmetic_and_the_batch(WeightFormat format)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        const int rows = 203, cols = 1280, m = 5;   // rows x cols above MatMul.InlineWork; 203 rows: a partial 16-row tile
        int rb = (int)kernel.WeightRowBytes(cols);
        var weights = new byte[rows * rb];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            double scale = Math.Pow(10, rng.Next(-2, 2));
            for (int c = 0; c < cols; c++) row[c] = (float)((rng.NextDouble() * 2 - 1) * scale);
            codec.Quantize(row, weights.AsSpan(r * rb, rb));
        }
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i / cols);

        var batch = new float[m * rows];
        MatMul.Compute(kernel, weights, rows, cols, x, m, batch, new byte[MatMul.ScratchBytes(kernel, m, cols)], _pool);
        var act = new byte[kernel.ActivationRowBytes(cols)];
        for (int t = 0; t < m; t++)
        {
            var alone = new float[rows];
            MatMul.Compute(kernel, weights, rows, cols, x.AsSpan(t * cols, cols), 1, alone, new byte[MatMul.ScratchBytes(kernel, 1, cols)], _pool);
            kernel.QuantizeActivation(x.AsSpan(t * cols, cols), act);
            for (int r = 0; r < rows; r++)
            {
                float single = Single(kernel, format, weights.AsSpan(r * rb, rb), act, cols);
                Assert.True(BitConverter.SingleToInt32Bits(alone[r]) == BitConverter.SingleToInt32Bits(single),
                    $"{format} row {r} token {t}: m=1 {alone[r]:R} != single-row {single:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(alone[r]) == BitConverter.SingleToInt32Bits(batch[t * rows + r]),
                    $"{format} row {r} token {t}: m=1 {alone[r]:R} != in batch {batch[t * rows + r]:R} (seed {seed})");
            }
        }
    }

    private static float Single(IVecDotKernel kernel, WeightFormat format, ReadOnlySpan<byte> w, ReadOnlySpan<byte> act, int cols)
    {
        if (!Q8Gemm.Supports(kernel)) return kernel.Dot(w, act, cols);
        fixed (byte* pw = w) fixed (byte* pa = act)
            return format == WeightFormat.Q4_0 ? Q8Gemm.Reference<GemmQ4_0>(pw, pa, cols / 32) : Q8Gemm.Reference<GemmQ8_0>(pw, pa, cols / 32);
    }
}
