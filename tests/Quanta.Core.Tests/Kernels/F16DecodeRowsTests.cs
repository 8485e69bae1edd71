using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Simd;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// F16 weights at batch 1 (decode): MatMul gives every row exactly the bits of <see cref="F16VecDot.Dot"/>, with row
/// counts that leave partial 16-row tiles, row lengths with tails, weights holding infinities, NaNs and subnormals, and
/// activations at the F16 extremes (a guard for any faster batch-1 path); and the Dot itself stays within its tolerance of
/// the F64 reference.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class F16DecodeRowsTests
{
    [Theory]
    [InlineData(23, 330, 1)]
    [InlineData(23, 330, 2)]
    [InlineData(61, 2048, 2)]
    [InlineData(5, 64, 1)]
    [InlineData(9, 40, 2)]
    public void Batch_one_rows_have_the_bits_of_the_dot(int rows, int cols, int threads)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var k = F16VecDot.Instance;
        var w = new byte[rows * 2 * cols];
        for (int i = 0; i < rows * cols; i++)
        {
            double u = rng.NextDouble();
            // mostly ordinary weights, some F16 subnormals (below 2^-14) and zeros of both signs
            float v = u < 0.05 ? (float)((rng.NextDouble() * 2 - 1) * 6e-5) : u < 0.07 ? (rng.Next(2) == 0 ? 0f : -0f) : (float)((rng.NextDouble() * 2 - 1) * 0.5);
            BitConverter.TryWriteBytes(w.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)v));
        }
        if (cols >= 64 && rows >= 3)
        {
            // an infinity in row 1's first chunk, a NaN in row 2's last full chunk: those chunks take the exact decode
            BitConverter.TryWriteBytes(w.AsSpan((1 * cols + 7) * 2), BitConverter.HalfToUInt16Bits(Half.NegativeInfinity));
            BitConverter.TryWriteBytes(w.AsSpan((2 * cols + (cols / 64 - 1) * 64 + 3) * 2), BitConverter.HalfToUInt16Bits(Half.NaN));
        }
        if (cols >= 192 && rows >= 8)
        {
            // specials in the second, third and fourth 16-weight quarters of different chunks of one 4-row step
            BitConverter.TryWriteBytes(w.AsSpan((4 * cols + 64 + 20) * 2), BitConverter.HalfToUInt16Bits(Half.PositiveInfinity));
            BitConverter.TryWriteBytes(w.AsSpan((5 * cols + 40) * 2), BitConverter.HalfToUInt16Bits(Half.NegativeInfinity));
            BitConverter.TryWriteBytes(w.AsSpan((7 * cols + 128 + 55) * 2), BitConverter.HalfToUInt16Bits(Half.NaN));
        }
        var x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * (i % 17 == 0 ? 60000 : 3));
        x[cols / 2] = 1e-7f;   // rounds to an F16 subnormal
        var act = new byte[k.ActivationRowBytes(cols)];
        k.QuantizeActivation(x, act);

        using var pool = new WorkerPool(threads);
        var y = new float[rows];
        var scratch = new byte[MatMul.ScratchBytes(k, 1, cols)];
        MatMul.Compute(k, w, rows, cols, x, 1, y, scratch, pool);
        for (int r = 0; r < rows; r++)
        {
            float dot = k.Dot(w.AsSpan(r * 2 * cols, 2 * cols), act, cols);
            Assert.True(BitConverter.SingleToInt32Bits(dot) == BitConverter.SingleToInt32Bits(y[r]),
                $"row {r} of {rows}x{cols}: MatMul {y[r]:R}, Dot {dot:R} (seed {seed})");
            if (float.IsFinite(dot))
            {
                double exact = k.DotReference(w.AsSpan(r * 2 * cols, 2 * cols), act, cols), mag = 0;
                for (int i = 0; i < cols; i++)
                    mag += Math.Abs((double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(w, (r * cols + i) * 2)) * BitConverter.ToSingle(act, 4 * i));
                Assert.True(Math.Abs(dot - exact) <= 1e-5 * mag + 1e-30, $"row {r}: Dot {dot:R}, F64 reference {exact:R} (seed {seed})");
            }
        }
    }

    [Fact]
    public void Batch_one_takes_the_widest_path()
    {
        using var scope = KernelPaths.BeginThreadScope();
        var k = F16VecDot.Instance;
        const int rows = 8, cols = 128;
        var w = new byte[rows * 2 * cols];
        var x = new float[cols];
        using var pool = new WorkerPool(1);
        MatMul.Compute(k, w, rows, cols, x, 1, new float[rows], new byte[MatMul.ScratchBytes(k, 1, cols)], pool);
        // the widest path this process allows (CI reruns this with AVX-512, AVX2 and all intrinsics switched off)
        SimdPath expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? SimdPath.V512
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx2.IsSupported ? SimdPath.V256
            : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar;
        Assert.True(scope.Snapshot().TryGetValue(F16VecDot.KernelName, out var path), "f16 kernel not recorded");
        Assert.Equal(expected, path);
    }
}
