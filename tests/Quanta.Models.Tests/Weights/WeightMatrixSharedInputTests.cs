using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Threading;
using Quanta.Models.Weights;

namespace Quanta.Models.Tests.Weights;

/// <summary>
/// <see cref="WeightMatrix.MatMulShared"/>: with matching formats (fused pool loop) and with mixed formats (a K-quant
/// file whose V is Q6_K: separate calls) every output has the bits of that matrix's own <see cref="WeightMatrix.MatMul"/>,
/// also with the rows converted beforehand (<see cref="WeightMatrix.ConvertActivationRow"/>, <c>converted: true</c>).
/// </summary>
[Trait("Category", "Kernels")]
public sealed class WeightMatrixSharedInputTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose() => _pool.Dispose();

    [Theory]
    [InlineData(WeightFormat.Q4_K, WeightFormat.Q4_K, WeightFormat.Q4_K, 1)]
    [InlineData(WeightFormat.Q4_K, WeightFormat.Q4_K, WeightFormat.Q6_K, 1)]
    [InlineData(WeightFormat.Q4_K, WeightFormat.Q4_K, WeightFormat.Q6_K, 3)]
    [InlineData(WeightFormat.Q4_0, WeightFormat.Q4_0, WeightFormat.Q4_0, 3)]
    [InlineData(WeightFormat.Q4_0, WeightFormat.Q4_0, WeightFormat.Q4_0, 16)]
    [InlineData(WeightFormat.Q8_0, WeightFormat.Q8_0, WeightFormat.Q8_0, 1)]
    public void Shared_products_equal_each_matrix_alone(WeightFormat fa, WeightFormat fb, WeightFormat fc, int m)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        const int cols = 1024;
        using var a = Random(rng, fa, 203, cols);
        using var b = Random(rng, fb, 37, cols);
        using var c = Random(rng, fc, 64, cols);
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        // pinned: the converted-rows check below converts into it ahead of the products (panel offsets follow its address)
        var scratch = GC.AllocateArray<byte>((int)Math.Max(MatMul.ScratchBytes(a.Kernel, m, cols), MatMul.ScratchBytes(c.Kernel, m, cols)), pinned: true);

        var ya = new float[m * a.Rows];
        var yb = new float[m * b.Rows];
        var yc = new float[m * c.Rows];
        WeightMatrix.MatMulShared(x, m, a, ya, b, yb, c, yc, scratch, _pool);
        Check(a, x, m, ya, scratch, $"{fa} a, m={m} (seed {seed})");
        Check(b, x, m, yb, scratch, $"{fb} b, m={m} (seed {seed})");
        Check(c, x, m, yc, scratch, $"{fc} c, m={m} (seed {seed})");

        // two matrices (Gate/Up)
        Array.Clear(ya);
        Array.Clear(yb);
        WeightMatrix.MatMulShared(x, m, a, ya, b, yb, null, default, scratch, _pool);
        Check(a, x, m, ya, scratch, $"{fa} a of two, m={m} (seed {seed})");
        Check(b, x, m, yb, scratch, $"{fb} b of two, m={m} (seed {seed})");

        // rows converted beforehand (as the decoder's row loops do, any order) give the same bits, shared and alone
        Assert.True(WeightMatrix.SharesConversion(a, b, c, m));
        float[] za = new float[m * a.Rows], zb = new float[m * b.Rows], zc = new float[m * c.Rows];
        for (int t = m - 1; t >= 0; t--) a.ConvertActivationRow(x.AsSpan(t * cols, cols), t, m, scratch);
        WeightMatrix.MatMulShared(x, m, a, za, b, zb, c, zc, scratch, _pool, converted: true);
        Check(a, x, m, za, scratch, $"{fa} a converted beforehand, m={m} (seed {seed})");
        Check(b, x, m, zb, scratch, $"{fb} b converted beforehand, m={m} (seed {seed})");
        Check(c, x, m, zc, scratch, $"{fc} c converted beforehand, m={m} (seed {seed})");
        for (int t = 0; t < m; t++) a.ConvertActivationRow(x.AsSpan(t * cols, cols), t, m, scratch);
        a.MatMul(x, m, za, scratch, _pool, converted: true);
        Check(a, x, m, za, scratch, $"{fa} a alone converted beforehand, m={m} (seed {seed})");
    }

    [Fact]
    public void Converted_rows_are_refused_where_each_matrix_converts_its_own()
    {
        var rng = new Random(1);
        using var a = Random(rng, WeightFormat.Q4_0, 16, 64);
        using var b = Random(rng, WeightFormat.Q8_0, 16, 64);
        Assert.False(WeightMatrix.SharesConversion(a, b, null, 2));
        var scratch = new byte[Math.Max(MatMul.ScratchBytes(a.Kernel, 2, 64), MatMul.ScratchBytes(b.Kernel, 2, 64))];
        Assert.Throws<ArgumentException>(() => WeightMatrix.MatMulShared(new float[128], 2, a, new float[32], b, new float[32], null, default, scratch, _pool, converted: true));
    }

    private void Check(WeightMatrix w, float[] x, int m, float[] got, byte[] scratch, string what)
    {
        var alone = new float[m * w.Rows];
        w.MatMul(x, m, alone, scratch, _pool);
        for (int i = 0; i < alone.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(got[i]),
                $"{what} element {i}: alone {alone[i]:R}, shared {got[i]:R}");
    }

    private static WeightMatrix Random(Random rng, WeightFormat format, int rows, int cols)
    {
        var values = new float[rows * cols];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return WeightMatrix.FromFloats(format, rows, cols, values);
    }
}
