using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The register-blocked BF16 x BF16 GEMM: every tile shape gives, bit for bit, the BF16 kernel's Dot for that row and
/// token (odd rows, tokens and row lengths with tails), which stays within float rounding of the exact F64 product of
/// the BF16 values; and MatMul gives a BF16 row the same bits alone (m = 1), in any batch and under any thread count.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class BF16GemmTests
{
    private static float Bf(ushort b) => BitConverter.Int32BitsToSingle(b << 16);

    private static (ushort[] W, ushort[] X) Make(int rows, int m, int n, Random rng)
    {
        var k = BF16VecDot.Instance;
        var w = new ushort[rows * n];
        var raw = new float[n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++) raw[c] = (float)((rng.NextDouble() * 2 - 1) * (r + 1));
            k.QuantizeActivation(raw, MemoryMarshal.AsBytes(w.AsSpan(r * n, n)));   // the same rounding as weights get
        }
        var x = new ushort[m * n];
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < n; c++) raw[c] = (float)(rng.NextDouble() * 2 - 1);
            k.QuantizeActivation(raw, MemoryMarshal.AsBytes(x.AsSpan(t * n, n)));
        }
        return (w, x);
    }

    [Theory]
    [InlineData(1, 2, 64)]
    [InlineData(5, 7, 200)]
    [InlineData(3, 4, 37)]
    [InlineData(7, 11, 130)]
    [InlineData(21, 37, 1100)]   // two 16-row panels, two 32-token blocks, three column blocks and a 12-element tail
    public void Tiles_equal_the_dot_bit_for_bit(int rows, int m, int n)
    {
        int seed = Environment.TickCount;
        var (w, x) = Make(rows, m, n, new Random(seed));
        var k = BF16VecDot.Instance;
        var y = new float[m * rows];
        fixed (ushort* pw = w) fixed (ushort* px = x) fixed (float* py = y)
        {
            BF16Gemm.Rows(pw, n, 0, rows / 2, px, n, m, py, rows);
            BF16Gemm.Rows(pw, n, rows / 2, rows, px, n, m, py, rows);
        }
        for (int t = 0; t < m; t++)
            for (int r = 0; r < rows; r++)
            {
                float want = k.Dot(MemoryMarshal.AsBytes(w.AsSpan(r * n, n)), MemoryMarshal.AsBytes(x.AsSpan(t * n, n)), n), got = y[t * rows + r];
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                    $"row {r} token {t} ({rows}x{m}x{n}): {got:R} != Dot {want:R} (seed {seed})");
                double exact = 0, mag = 0;
                for (int c = 0; c < n; c++)
                {
                    double term = (double)Bf(w[r * n + c]) * Bf(x[t * n + c]);
                    exact += term;
                    mag += Math.Abs(term);
                }
                Assert.True(Math.Abs(got - exact) <= 1e-5 * mag + 1e-30, $"row {r} token {t}: {got:R} vs exact {exact:R} (seed {seed})");
            }
    }

    [Fact]
    public void MatMul_rows_are_batch_and_thread_invariant()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(WeightFormat.BF16);
        const int rows = 157, cols = 330, m = 8;   // rows x cols x m above MatMul.InlineWork: the pool splits
        var (w, _) = Make(rows, 1, cols, rng);
        var wb = MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        float[] Compute(int threads, int first, int count)
        {
            using var pool = new WorkerPool(threads);
            var y = new float[count * rows];
            var scratch = new byte[MatMul.ScratchBytes(kernel, count, cols)];
            MatMul.Compute(kernel, wb, rows, cols, x.AsSpan(first * cols, count * cols), count, y, scratch, pool);
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
