using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Kernels.Quantized;
using Quanta.Core.Simd;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The register-blocked K-quant (Q4_K, Q6_K) x Q8_K GEMM: every tile shape and path gives, bit for bit, the scalar
/// reference of the format's dot (ggml's arithmetic, checked against ggml elsewhere), at odd row, token and super-block
/// counts; and MatMul gives a row the same bits alone (m = 1, the Dot), in a batch (the GEMM) and under any thread count.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class KQuantGemmTests
{
    private static (byte[] W, int Rb, byte[] A, int Ab) Make(WeightFormat format, int rows, int m, int nb, Random rng)
    {
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        int cols = nb * 256, rb = (int)kernel.WeightRowBytes(cols), ab = kernel.ActivationRowBytes(cols);
        var w = new byte[rows * rb];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            double scale = Math.Pow(10, rng.Next(-3, 3));
            for (int c = 0; c < cols; c++) row[c] = (float)((rng.NextDouble() * 2 - 1 + (r % 3) * 0.3) * scale);
            codec.Quantize(row, w.AsSpan(r * rb, rb));
        }
        var a = new byte[m * ab];
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1) * (t + 1);
            kernel.QuantizeActivation(row, a.AsSpan(t * ab, ab));
        }
        return (w, rb, a, ab);
    }

    [Theory]
    [InlineData(WeightFormat.Q4_K, 1, 1, 1)]
    [InlineData(WeightFormat.Q4_K, 7, 5, 3)]
    [InlineData(WeightFormat.Q4_K, 9, 13, 2)]
    [InlineData(WeightFormat.Q4_K, 6, 3, 1)]
    [InlineData(WeightFormat.Q4_K, 4, 4, 2)]
    [InlineData(WeightFormat.Q6_K, 1, 1, 1)]
    [InlineData(WeightFormat.Q6_K, 7, 5, 3)]
    [InlineData(WeightFormat.Q6_K, 9, 13, 2)]
    [InlineData(WeightFormat.Q6_K, 6, 3, 1)]
    [InlineData(WeightFormat.Q4_K, 40, 37, 2)]   // unpacked rows (m >= 8) across 16-row groups and 32-token blocks
    [InlineData(WeightFormat.Q6_K, 40, 37, 1)]
    [InlineData(WeightFormat.Q6_K, 5, 8, 2)]
    [InlineData(WeightFormat.Q4_K, 9, 16, 2)]    // one row x 16 tokens (m = 16..31), the rest raw or unpacked
    [InlineData(WeightFormat.Q6_K, 7, 16, 3)]
    [InlineData(WeightFormat.Q4_K, 6, 21, 1)]
    [InlineData(WeightFormat.Q6_K, 5, 31, 2)]
    [InlineData(WeightFormat.Q4_K, 9, 17, 2)]    // the few-token path in token groups (Q4_K 16 + 1, 16 + 16 + 1; Q6_K 8 + 9,
    [InlineData(WeightFormat.Q6_K, 7, 17, 3)]    // 11 + 11 + 11, 15 + 16 + 16, 16 x 4), each range preparing its own
    [InlineData(WeightFormat.Q4_K, 7, 33, 2)]    // Q6_K layouts; Q4_K 65 tokens: past its groups
    [InlineData(WeightFormat.Q6_K, 9, 33, 1)]
    [InlineData(WeightFormat.Q6_K, 6, 47, 2)]
    [InlineData(WeightFormat.Q4_K, 5, 64, 1)]
    [InlineData(WeightFormat.Q6_K, 5, 64, 1)]
    [InlineData(WeightFormat.Q4_K, 5, 65, 1)]
    [InlineData(WeightFormat.Q6_K, 5, 101, 1)]   // Q6_K groups at any m: 7 groups of 14-15
    public void Every_path_equals_the_reference_bit_for_bit(WeightFormat format, int rows, int m, int nb)
    {
        int seed = Environment.TickCount;
        var (w, rb, a, ab) = Make(format, rows, m, nb, new Random(seed));
        var k = (KQuantVecDotKernel)KernelRegistry.VecDot(format);
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V128, SimdPath.V256, SimdPath.V512 })
        {
            if (path > KQuantGemm.Widest) continue;
            var y = new float[m * rows];
            fixed (byte* pw = w) fixed (byte* pa = a) fixed (float* py = y)
            {
                // rows split unevenly, as MatMul's row tiles may be
                if (format == WeightFormat.Q4_K)
                {
                    KQuantGemm.Rows<KGemmQ4_K>(pw, rb, 0, rows / 2, pa, ab, m, nb, py, rows, path);
                    KQuantGemm.Rows<KGemmQ4_K>(pw, rb, rows / 2, rows, pa, ab, m, nb, py, rows, path);
                }
                else
                {
                    KQuantGemm.Rows<KGemmQ6_K>(pw, rb, 0, rows / 2, pa, ab, m, nb, py, rows, path);
                    KQuantGemm.Rows<KGemmQ6_K>(pw, rb, rows / 2, rows, pa, ab, m, nb, py, rows, path);
                }
            }
            for (int t = 0; t < m; t++)
                for (int r = 0; r < rows; r++)
                {
                    float want = k.DotReference(w.AsSpan(r * rb, rb), a.AsSpan(t * ab, ab), nb * 256), got = y[t * rows + r];
                    Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                        $"{format} {path} row {r} token {t} ({rows}x{m}x{nb} super-blocks): {got:R} != reference {want:R} (seed {seed})");
                }
        }
    }

    public static TheoryData<WeightFormat, int> FewTokenCases()
    {
        var data = new TheoryData<WeightFormat, int>();
        foreach (var format in new[] { WeightFormat.Q4_K, WeightFormat.Q6_K })
            foreach (int m in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 })
                data.Add(format, m);
        return data;
    }

    [Theory]
    [MemberData(nameof(FewTokenCases))]
    public void Few_token_path_equals_the_reference_bit_for_bit(WeightFormat format, int m)
    {
        if (!KQuantGemvMulti.Supported) return;   // AVX-512 BW + GFNI only; other machines never take it
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var k = (KQuantVecDotKernel)KernelRegistry.VecDot(format);
        foreach (int nb in new[] { 1, 3, 8 })
            foreach (int rows in new[] { 1, 6, 13 })
            {
                var (w, rb, a, ab) = Make(format, rows, m, nb, rng);
                var y = new float[m * rows];
                fixed (byte* pw = w) fixed (byte* pa = a) fixed (float* py = y)
                {
                    // rows split unevenly (groups of 4 with a partial one), as MatMul's row tiles may be
                    int split = rows / 3;
                    if (format == WeightFormat.Q4_K)
                    {
                        KQuantGemvMulti.Rows<KGemmQ4_K>(pw, rb, 0, split, pa, ab, m, nb, py, rows);
                        KQuantGemvMulti.Rows<KGemmQ4_K>(pw, rb, split, rows, pa, ab, m, nb, py, rows);
                    }
                    else
                    {
                        // the first range lays the activations out itself, the second reads them prepared once (as MatMul)
                        KQuantGemvMulti.Rows<KGemmQ6_K>(pw, rb, 0, split, pa, ab, m, nb, py, rows);
                        byte[] prep = new byte[KQuantGemvMulti.PreparedQ6KBytes(m, nb) + 64];
                        fixed (byte* pp = prep)
                        {
                            byte* pr = (byte*)(((nint)pp + 63) & ~(nint)63);
                            if (KQuantGemvMulti.TakesPreparedQ6K(m)) KQuantGemvMulti.PrepareQ6K(pa, ab, m, nb, pr);
                            else pr = null;
                            KQuantGemvMulti.Rows<KGemmQ6_K>(pw, rb, split, rows, pa, ab, m, nb, py, rows, pr);
                        }
                    }
                }
                for (int t = 0; t < m; t++)
                    for (int r = 0; r < rows; r++)
                    {
                        float want = k.DotReference(w.AsSpan(r * rb, rb), a.AsSpan(t * ab, ab), nb * 256), got = y[t * rows + r];
                        Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                            $"{format} few-token row {r} token {t} ({rows}x{m}x{nb} super-blocks): {got:R} != reference {want:R} (seed {seed})");
                    }
            }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_K, 9)]
    [InlineData(WeightFormat.Q6_K, 6)]    // Q6_K from 2 tokens: activations prepared once per product
    [InlineData(WeightFormat.Q6_K, 9)]
    [InlineData(WeightFormat.Q6_K, 13)]
    [InlineData(WeightFormat.Q6_K, 16)]
    [InlineData(WeightFormat.Q4_K, 17)]   // token groups (Q6_K: each group's activations prepared once per product)
    [InlineData(WeightFormat.Q6_K, 17)]
    [InlineData(WeightFormat.Q4_K, 31)]
    [InlineData(WeightFormat.Q6_K, 31)]
    [InlineData(WeightFormat.Q4_K, 33)]
    [InlineData(WeightFormat.Q6_K, 33)]
    public void MatMul_rows_are_batch_and_thread_invariant(WeightFormat format, int m)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(format);
        const int rows = 203, cols = 768;   // rows x cols x m above MatMul.InlineWork: the pool splits
        var (w, _, _, _) = Make(format, rows, 1, cols / 256, rng);
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
        var one = Compute(1, 0, m);
        var three = Compute(3, 0, m);
        var firstFive = Compute(1, 0, 5);
        for (int t = 0; t < m; t++)
        {
            var alone = Compute(1, t, 1);
            for (int r = 0; r < rows; r++)
            {
                int b = BitConverter.SingleToInt32Bits(batch[t * rows + r]);
                Assert.True(BitConverter.SingleToInt32Bits(alone[r]) == b,
                    $"{format} row {r} token {t}: alone {alone[r]:R}, in batch {batch[t * rows + r]:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(one[t * rows + r]) == b,
                    $"{format} row {r} token {t}: 1 thread {one[t * rows + r]:R}, 2 threads {batch[t * rows + r]:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(three[t * rows + r]) == b,
                    $"{format} row {r} token {t}: 3 threads {three[t * rows + r]:R}, 2 threads {batch[t * rows + r]:R} (seed {seed})");
                if (t < 5)
                    Assert.True(BitConverter.SingleToInt32Bits(firstFive[t * rows + r]) == b,
                        $"{format} row {r} token {t}: batch of 5 {firstFive[t * rows + r]:R}, batch of 9 {batch[t * rows + r]:R} (seed {seed})");
            }
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_K)]
    [InlineData(WeightFormat.Q6_K)]
    public void Scratch_for_m_tokens_fits_every_smaller_batch(WeightFormat format)
    {
        // callers reserve MatMul.ScratchBytes for their largest batch and run smaller ones in it (the Q6_K layouts grow
        // with m and its token groups)
        var kernel = KernelRegistry.VecDot(format);
        foreach (int cols in new[] { 768, 2048, 8192 })
            for (int m = 2; m <= 200; m++)
                Assert.True(MatMul.ScratchBytes(kernel, m, cols) >= MatMul.ScratchBytes(kernel, m - 1, cols), $"{format} {cols} columns: m = {m}");
    }
}
