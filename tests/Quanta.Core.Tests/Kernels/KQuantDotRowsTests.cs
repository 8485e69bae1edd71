using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The batch-1 row loop of the K-quant kernels (<see cref="KQuantVecDotKernel.DotRows"/>; Q6_K takes 4 rows at a time, Q4_K 8
/// then 4, on AVX-512 with GFNI): every row's output has the bits of the scalar reference of that row alone, for row ranges
/// that start anywhere and leave 0..7 rows past the last group of 8 and 1..3 past the last group of 4, with raw block bytes over the whole code and scale range.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class KQuantDotRowsTests
{
    [Theory]
    [InlineData(WeightFormat.Q6_K, 1)]
    [InlineData(WeightFormat.Q6_K, 3)]
    [InlineData(WeightFormat.Q6_K, 8)]
    [InlineData(WeightFormat.Q4_K, 1)]
    [InlineData(WeightFormat.Q4_K, 3)]
    [InlineData(WeightFormat.Q4_K, 8)]
    public void Rows_equal_the_reference_bit_for_bit(WeightFormat format, int nb)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = (KQuantVecDotKernel)KernelRegistry.VecDot(format);
        int cols = 256 * nb, rows = 23;
        int rb = (int)kernel.WeightRowBytes(cols);
        var weights = new byte[rows * rb];
        rng.NextBytes(weights);
        // finite fp16 super-block scales, one in eight subnormal or zero (the rest of each block stays raw: every code,
        // high-bit and scale pattern)
        int blockBytes = rb / nb;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < nb; i++)
            {
                int o = r * rb + i * blockBytes;
                ushort d = (ushort)(Scale(rng) | (rng.Next(2) << 15));
                if (format == WeightFormat.Q6_K) BitConverter.TryWriteBytes(weights.AsSpan(o + blockBytes - 2, 2), d);
                else
                {
                    BitConverter.TryWriteBytes(weights.AsSpan(o, 2), d);
                    BitConverter.TryWriteBytes(weights.AsSpan(o + 2, 2), (ushort)Scale(rng));
                }
            }
        var x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-2, 2)));
        var act = new byte[kernel.ActivationRowBytes(cols)];
        kernel.QuantizeActivation(x, act);
        foreach (var (r0, r1) in new[] { (0, rows), (1, 6), (2, 9), (3, 14), (5, 6), (2, 21) })
        {
            var y = new float[rows];
            fixed (byte* w = weights) fixed (byte* a = act) fixed (float* py = y)
                kernel.DotRows(w, rb, r0, r1, a, cols, py);
            for (int r = r0; r < r1; r++)
            {
                float want = kernel.DotReference(weights.AsSpan(r * rb, rb), act, cols);
                Assert.True(BitConverter.SingleToInt32Bits(y[r]) == BitConverter.SingleToInt32Bits(want),
                    $"{format} nb {nb} rows [{r0}, {r1}) row {r}: {y[r]:R} != reference {want:R} (seed {seed})");
            }
        }
    }

    private static int Scale(Random rng) => rng.Next(8) == 0 ? rng.Next(0, 0x0400) : rng.Next(0x0400, 0x3C00);
}
