using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The register-blocked F16 x F32 GEMM: every tile shape gives, bit for bit, the F16 kernel's Dot for that row and
/// token (odd rows, tokens and row lengths with tails, and a weight chunk holding an inf), the Dot stays within its
/// documented tolerance of the exact F64 reference, and MatMul gives an F16 row the same bits alone (m = 1), in any
/// batch and under any thread count.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class F16GemmTests
{
    private static (byte[] W, float[] X) Make(int rows, int m, int n, Random rng, bool withInf)
    {
        var k = F16VecDot.Instance;
        var w = new byte[rows * 2 * n];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < n; c++)
                BitConverter.TryWriteBytes(w.AsSpan((r * n + c) * 2), BitConverter.HalfToUInt16Bits((Half)((rng.NextDouble() * 2 - 1) * (r + 1))));
        if (withInf && n >= 64) BitConverter.TryWriteBytes(w.AsSpan((rows - 1) * 2 * n + 2 * 5), BitConverter.HalfToUInt16Bits(Half.PositiveInfinity));
        var raw = new float[n];
        var x = new float[m * n];
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < n; c++) raw[c] = (float)(rng.NextDouble() * 2 - 1);
            k.QuantizeActivation(raw, System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan(t * n, n)));
        }
        return (w, x);
    }

    [Theory]
    [InlineData(1, 2, 64, false)]
    [InlineData(5, 7, 200, false)]
    [InlineData(3, 4, 37, false)]
    [InlineData(4, 5, 256, true)]
    [InlineData(7, 11, 130, false)]
    [InlineData(21, 9, 1100, true)]   // two 16-row panels and a 12-element tail
    [InlineData(6, 37, 192, false)]   // two 32-token blocks
    public void Tiles_equal_the_dot_bit_for_bit(int rows, int m, int n, bool withInf)
    {
        int seed = Environment.TickCount;
        var (w, x) = Make(rows, m, n, new Random(seed), withInf);
        var k = F16VecDot.Instance;
        var y = new float[m * rows];
        var xp = (float[])x.Clone();   // Prepare rearranges its rows in place
        fixed (byte* pw = w) fixed (float* px = xp) fixed (float* py = y)
        {
            F16Gemm.Prepare(px, n, m, n);
            F16Gemm.Rows((ushort*)pw, n, 0, rows / 2, px, n, m, py, rows);
            F16Gemm.Rows((ushort*)pw, n, rows / 2, rows, px, n, m, py, rows);
        }
        for (int t = 0; t < m; t++)
            for (int r = 0; r < rows; r++)
            {
                var wr = w.AsSpan(r * 2 * n, 2 * n);
                var xr = System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan(t * n, n));
                float want = k.Dot(wr, xr, n), got = y[t * rows + r];
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                    $"row {r} token {t} ({rows}x{m}x{n}): {got:R} != Dot {want:R} (seed {seed})");
                // and the Dot is the product: within its tolerance of the exact sum (F64, exact conversions)
                double exact = 0, mag = 0;
                for (int c = 0; c < n; c++)
                {
                    double term = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(w, (r * n + c) * 2)) * x[t * n + c];
                    exact += term;
                    mag += Math.Abs(term);
                }
                if (double.IsFinite(exact))
                    Assert.True(Math.Abs(got - exact) <= 1e-5 * mag + 1e-30, $"row {r} token {t}: {got:R} vs exact {exact:R} (seed {seed})");
                else
                    Assert.True(float.IsInfinity(got) || float.IsNaN(got), $"row {r} token {t}: {got:R} should carry the inf (seed {seed})");
            }
    }

    [Fact]
    public void MatMul_rows_are_batch_and_thread_invariant()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(WeightFormat.F16);
        const int rows = 157, cols = 330, m = 8;   // rows x cols x m above MatMul.InlineWork: the pool splits
        var (w, _) = Make(rows, 1, cols, rng, false);
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        float[] Compute(int threads, int first, int count)
        {
            using var pool = new WorkerPool(threads);
            var y = new float[count * rows];
            var scratch = new byte[MatMul.ScratchBytes(kernel, count, cols)];
            MatMul.Compute(kernel, w, rows, cols, x.AsSpan(first * cols, count * cols), count, y, scratch, pool);
            return y;
        }
        var batch = Compute(2, 0, m);
        var three = Compute(3, 0, m);
        var firstFive = Compute(1, 0, 5);
        for (int t = 0; t < m; t++)
        {
            var alone = Compute(1, t, 1);
            for (int r = 0; r < rows; r++)
            {
                int b = BitConverter.SingleToInt32Bits(batch[t * rows + r]);
                Assert.True(BitConverter.SingleToInt32Bits(alone[r]) == b, $"row {r} token {t}: alone {alone[r]:R}, in batch {batch[t * rows + r]:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(three[t * rows + r]) == b, $"row {r} token {t}: 3 threads {three[t * rows + r]:R} (seed {seed})");
                if (t < 5)
                    Assert.True(BitConverter.SingleToInt32Bits(firstFive[t * rows + r]) == b, $"row {r} token {t}: batch of 5 {firstFive[t * rows + r]:R} (seed {seed})");
            }
        }
    }
}
