using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Kernels.Gemm;
using Quanta.Core.Simd;
using Quanta.Core.Threading;

namespace Quanta.Core.Tests.Kernels;

/// <summary>
/// The register-blocked Q4_0/Q8_0 x Q8_0 GEMM: every SIMD path and tile shape equals the scalar reference bit for bit
/// (odd row, token and block counts included), the reference equals the exact product of the codes within float
/// rounding, and MatMul gives a row the same bits alone, in a batch and under any thread count.
/// </summary>
[Trait("Category", "Kernels")]
public sealed unsafe class Q8GemmTests
{
    public static TheoryData<WeightFormat, int, int, int> Shapes() => new()
    {
        { WeightFormat.Q4_0, 1, 1, 1 }, { WeightFormat.Q4_0, 11, 7, 3 }, { WeightFormat.Q4_0, 7, 1, 4 }, { WeightFormat.Q4_0, 5, 3, 11 }, { WeightFormat.Q4_0, 9, 5, 64 }, { WeightFormat.Q4_0, 9, 13, 8 }, { WeightFormat.Q4_0, 6, 37, 9 }, { WeightFormat.Q4_0, 35, 9, 5 },
        // one token (the decode path): row counts around the 4-row tile, block counts around the 16-block scale groups
        { WeightFormat.Q4_0, 4, 1, 16 }, { WeightFormat.Q4_0, 9, 1, 24 }, { WeightFormat.Q4_0, 6, 1, 33 }, { WeightFormat.Q4_0, 5, 1, 47 },
        { WeightFormat.Q4_0, 8, 1, 64 }, { WeightFormat.Q4_0, 3, 1, 8 }, { WeightFormat.Q4_0, 7, 1, 9 }, { WeightFormat.Q4_0, 2, 1, 15 },
        { WeightFormat.Q8_0, 4, 1, 16 }, { WeightFormat.Q8_0, 9, 1, 24 }, { WeightFormat.Q8_0, 6, 1, 33 }, { WeightFormat.Q8_0, 5, 1, 47 },
        { WeightFormat.Q8_0, 8, 1, 64 }, { WeightFormat.Q8_0, 3, 1, 8 }, { WeightFormat.Q8_0, 7, 1, 9 }, { WeightFormat.Q8_0, 2, 1, 15 },
        // one token, Q4_0 rows in steps of 8 (23 rows split 11 + 12: 8 + 3, 8 + 4) over one group plus a half (768 columns),
        // two plus a half, three, six
        { WeightFormat.Q4_0, 23, 1, 24 }, { WeightFormat.Q4_0, 23, 1, 40 }, { WeightFormat.Q4_0, 23, 1, 48 }, { WeightFormat.Q4_0, 35, 1, 96 },
        // one token, Q4_0 rows of 768 columns two at a time (GemvRows24): ranges of 1 + 1, 8 + 8, 16 + 17 rows (an odd last row)
        { WeightFormat.Q4_0, 2, 1, 24 }, { WeightFormat.Q4_0, 16, 1, 24 }, { WeightFormat.Q4_0, 33, 1, 24 },
        // one token, Q8_0 rows in steps of 8 (GemvQ8) over the same block counts, and a group plus 4 blocks (the generic last group)
        { WeightFormat.Q8_0, 23, 1, 24 }, { WeightFormat.Q8_0, 23, 1, 40 }, { WeightFormat.Q8_0, 23, 1, 48 }, { WeightFormat.Q8_0, 35, 1, 96 },
        { WeightFormat.Q8_0, 23, 1, 20 },
        // long rows (more than 2048 blocks)
        { WeightFormat.Q4_0, 5, 1, 2049 }, { WeightFormat.Q8_0, 3, 1, 2049 },
        // batches over a whole group plus a half group (the 256-bit tail), a whole group plus 9 blocks, several groups
        { WeightFormat.Q4_0, 7, 6, 24 }, { WeightFormat.Q8_0, 7, 6, 24 }, { WeightFormat.Q4_0, 5, 5, 25 }, { WeightFormat.Q8_0, 5, 5, 25 },
        { WeightFormat.Q4_0, 6, 2, 40 }, { WeightFormat.Q8_0, 4, 2, 48 }, { WeightFormat.Q4_0, 3, 1, 24 }, { WeightFormat.Q8_0, 5, 4, 72 },
        // whole 4 x 4 tiles (4 rows each side of the split) over a half group alone, one group plus a half, three plus a half
        { WeightFormat.Q4_0, 8, 9, 8 }, { WeightFormat.Q4_0, 8, 9, 24 }, { WeightFormat.Q4_0, 8, 9, 56 },
        { WeightFormat.Q8_0, 8, 9, 8 }, { WeightFormat.Q8_0, 8, 9, 24 }, { WeightFormat.Q8_0, 8, 9, 56 },
        // Q4_0 rows past 8 groups (the 4 x 4 pass with memory accumulators), with and without a half group
        { WeightFormat.Q4_0, 8, 9, 144 }, { WeightFormat.Q4_0, 8, 9, 152 }, { WeightFormat.Q4_0, 8, 6, 136 },
        // Q8_0 rows past 4 whole groups (the 4 x 4 pass in column spans of 4 groups): 5 groups, 5 plus a half, 6 plus a
        // one-block half, 8 plus a group of 9 (a span of one group); rows and tokens past a decode and token block, with
        // partial row and token tiles
        { WeightFormat.Q8_0, 21, 37, 80 }, { WeightFormat.Q8_0, 21, 37, 88 }, { WeightFormat.Q8_0, 6, 35, 97 }, { WeightFormat.Q8_0, 7, 18, 137 },
        { WeightFormat.Q8_0, 1, 1, 1 }, { WeightFormat.Q8_0, 11, 7, 3 }, { WeightFormat.Q8_0, 7, 1, 4 }, { WeightFormat.Q8_0, 5, 3, 11 }, { WeightFormat.Q8_0, 9, 13, 8 }, { WeightFormat.Q8_0, 6, 37, 9 }, { WeightFormat.Q8_0, 35, 9, 5 },
    };

    private sealed record Problem(IVecDotKernel Kernel, byte[] Weights, int RowBytes, byte[] Acts, int ActBytes, byte[] Panels, int PanelBytes, int Rows, int M, int Nb);

    private static Problem Make(WeightFormat format, int rows, int m, int nb, Random rng)
    {
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        int cols = nb * 32, rb = (int)kernel.WeightRowBytes(cols), ab = kernel.ActivationRowBytes(cols), pb = Q8Gemm.PanelBytes(cols);
        var weights = new byte[rows * rb];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            double scale = Math.Pow(10, rng.Next(-3, 3));
            for (int c = 0; c < cols; c++) row[c] = (float)((rng.NextDouble() * 2 - 1) * scale);
            codec.Quantize(row, weights.AsSpan(r * rb, rb));
        }
        var acts = new byte[m * ab];
        var panels = new byte[m * pb];
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1) * (t + 1);
            kernel.QuantizeActivation(row, acts.AsSpan(t * ab, ab));
            fixed (byte* pa = acts) fixed (byte* pp = panels) Q8Gemm.Pack(kernel, pa + t * ab, nb, pp + t * pb);
        }
        return new Problem(kernel, weights, rb, acts, ab, panels, pb, rows, m, nb);
    }

    private static float[] Run(Problem p, SimdPath path, int r0, int r1)
    {
        var y = new float[p.M * p.Rows];
        fixed (byte* w = p.Weights) fixed (byte* a = p.Acts) fixed (byte* pp = p.Panels) fixed (float* py = y)
        {
            if (p.Kernel.Format == WeightFormat.Q4_0)
                Q8Gemm.Rows<GemmQ4_0>(w, p.RowBytes, r0, r1, a, p.ActBytes, pp, p.PanelBytes, p.M, p.Nb, py, p.Rows, path);
            else
                Q8Gemm.Rows<GemmQ8_0>(w, p.RowBytes, r0, r1, a, p.ActBytes, pp, p.PanelBytes, p.M, p.Nb, py, p.Rows, path);
        }
        return y;
    }

    private static float Reference(Problem p, int r, int t)
    {
        fixed (byte* w = p.Weights) fixed (byte* a = p.Acts)
            return p.Kernel.Format == WeightFormat.Q4_0
                ? Q8Gemm.Reference<GemmQ4_0>(w + r * p.RowBytes, a + t * p.ActBytes, p.Nb)
                : Q8Gemm.Reference<GemmQ8_0>(w + r * p.RowBytes, a + t * p.ActBytes, p.Nb);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_path_equals_the_reference_bit_for_bit(WeightFormat format, int rows, int m, int nb)
    {
        int seed = Environment.TickCount;
        var p = Make(format, rows, m, nb, new Random(seed));
        int tested = 0;
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V128, SimdPath.V256, SimdPath.V512 })
        {
            if (!Q8Gemm.PathSupported(path)) continue;
            tested++;
            // rows split unevenly, as the row tiles of MatMul may be
            var y = Run(p, path, 0, rows / 2);
            var rest = Run(p, path, rows / 2, rows);
            for (int t = 0; t < m; t++)
                for (int r = 0; r < rows; r++)
                {
                    float got = r < rows / 2 ? y[t * rows + r] : rest[t * rows + r], want = Reference(p, r, t);
                    Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                        $"{format} {path} row {r} token {t} ({rows}x{m}x{nb} blocks): {got:R} != reference {want:R} (seed {seed})");
                }
        }
        Assert.True(tested >= 1);
    }

    public static TheoryData<WeightFormat, int, int> OddCounts() => BothFormats([1, 2, 3, 4, 5, 7, 13, 17], [1, 7, 16, 24, 33]);

    /// <summary>Every (format, token count, block count) of Q4_0 and Q8_0 with the given counts.</summary>
    private static TheoryData<WeightFormat, int, int> BothFormats(int[] tokens, int[] blocks)
    {
        var data = new TheoryData<WeightFormat, int, int>();
        foreach (var format in new[] { WeightFormat.Q4_0, WeightFormat.Q8_0 })
            foreach (int m in tokens)
                foreach (int nb in blocks)
                    data.Add(format, m, nb);
        return data;
    }

    [Theory]
    [MemberData(nameof(OddCounts))]
    public void Avx2_path_equals_the_reference_at_odd_token_and_block_counts(WeightFormat format, int m, int nb)
    {
        // the one-token path (Q4_0 block pairs; whole-group and tail halves), the few-token path (up to 10 or 8 tokens, 4 at
        // a time: 5 and 7 leave 1 and 3) and the tiles (4 rows x 3 tokens, half groups of 8 blocks; 13 and 17 leave tails of
        // 1 and 2 tokens): token counts around all three, block counts around the half and whole groups, 9 rows (4 + 4 + 1)
        if (!Q8Gemm.PathSupported(SimdPath.V256)) return;
        int seed = Environment.TickCount;
        const int rows = 9;
        var p = Make(format, rows, m, nb, new Random(seed));
        var y = Run(p, SimdPath.V256, 0, 5);
        var rest = Run(p, SimdPath.V256, 5, rows);
        for (int t = 0; t < m; t++)
            for (int r = 0; r < rows; r++)
            {
                float got = r < 5 ? y[t * rows + r] : rest[t * rows + r], want = Reference(p, r, t);
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                    $"{format} V256 row {r} token {t} ({rows}x{m}x{nb} blocks): {got:R} != reference {want:R} (seed {seed})");
            }
    }

    public static TheoryData<WeightFormat, int, int> FewTokens() => BothFormats([2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 20, 31, 33, 40, 47], [1, 7, 8, 15, 24, 25, 32, 33, 47, 152, 264]);

    [Theory]
    [MemberData(nameof(FewTokens))]
    public void Direct_few_token_path_equals_the_reference_and_the_tiles(WeightFormat format, int m, int nb)
    {
        // the 512-bit direct path (weight groups transposed in registers, shared by the tokens) at 2..47 tokens against the
        // reference, and Rows on the 512-bit path (direct up to DirectTokens, grouped, tiles) against it; odd block counts
        // (a lone odd block, half groups of 8, groups plus 9 or 15 blocks, past 8 groups; Q4_0 24 and 32 blocks: rows of two
        // groups in registers; 264 blocks: a row's panels outgrow
        // L1 and rows go in blocks of 8 from 2 tokens), 40 rows split 5 + 35 (rows go in blocks of 8 whose
        // accumulators are reduced together from 8 tokens: 35 = 4 x 8 + a block of 3); past 16 tokens the direct path in
        // token groups of at most 16 (17 = 8 + 9, 33 = 11 + 11 + 11, 47 = 15 + 16 + 16), which Rows takes up to its
        // crossover (GroupedTokensFor) and the tiles past it
        if (!Q8Gemm.PathSupported(SimdPath.V512)) return;
        int seed = Environment.TickCount;
        const int rows = 40;
        var p = Make(format, rows, m, nb, new Random(seed));
        var direct = new float[m * rows];
        fixed (byte* w = p.Weights) fixed (byte* pp = p.Panels) fixed (float* py = direct)
            foreach (var (r0, r1) in new[] { (0, 5), (5, rows) })
            {
                if (format == WeightFormat.Q4_0 && m <= Q8Gemm.DirectTokensMax) Q8Gemm.GemvMulti512<GemmQ4_0>(w, p.RowBytes, r0, r1, pp, p.PanelBytes, m, p.Nb, py, rows);
                else if (format == WeightFormat.Q4_0) Q8Gemm.GemvGroups512<GemmQ4_0>(w, p.RowBytes, r0, r1, pp, p.PanelBytes, m, p.Nb, py, rows);
                else if (m <= Q8Gemm.DirectTokensMax) Q8Gemm.GemvMulti512<GemmQ8_0>(w, p.RowBytes, r0, r1, pp, p.PanelBytes, m, p.Nb, py, rows);
                else Q8Gemm.GemvGroups512<GemmQ8_0>(w, p.RowBytes, r0, r1, pp, p.PanelBytes, m, p.Nb, py, rows);
            }
        var rowsPath = Run(p, SimdPath.V512, 0, rows);
        for (int t = 0; t < m; t++)
            for (int r = 0; r < rows; r++)
            {
                int want = BitConverter.SingleToInt32Bits(Reference(p, r, t));
                Assert.True(BitConverter.SingleToInt32Bits(direct[t * rows + r]) == want,
                    $"{format} direct row {r} token {t} ({rows}x{m}x{nb} blocks): {direct[t * rows + r]:R} != reference {Reference(p, r, t):R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(rowsPath[t * rows + r]) == want,
                    $"{format} V512 Rows row {r} token {t} ({rows}x{m}x{nb} blocks): {rowsPath[t * rows + r]:R} != reference {Reference(p, r, t):R} (seed {seed})");
            }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_0)]
    [InlineData(WeightFormat.Q8_0)]
    public void Transposed_panel_codes_have_the_defined_layout_on_every_path(WeightFormat format)
    {
        // chunk k, lane p = codes 4k..4k+3 of block BlockOf(p) (Q4_0 bytes; Q8_0 as int16 pieces (4k, 4k+2), (4k+1, 4k+3)):
        // what Pack wrote on this machine's path, and what the AVX2 transposition writes from the same codes
        int seed = Environment.TickCount;
        const int nb = 33;
        var p = Make(format, 1, 1, nb, new Random(seed));
        var want = new byte[1024];
        var got = new byte[1024];
        fixed (byte* pp = p.Panels)
            for (int g = 0; g * 16 < nb; g++)
            {
                byte* pg = pp + g * Q8Gemm.GroupBytes;
                sbyte* codes = (sbyte*)(pg + Q8Gemm.CodesOffset);
                for (int k = 0; k < 8; k++)
                    for (int lane = 0; lane < 16; lane++)
                    {
                        sbyte* c = codes + 32 * Q8Gemm.BlockOf(lane) + 4 * k;
                        if (format == WeightFormat.Q4_0)
                            for (int e = 0; e < 4; e++) want[64 * k + 4 * lane + e] = (byte)c[e];
                        else
                        {
                            BitConverter.TryWriteBytes(want.AsSpan(128 * k + 4 * lane), (short)c[0]);
                            BitConverter.TryWriteBytes(want.AsSpan(128 * k + 4 * lane + 2), (short)c[2]);
                            BitConverter.TryWriteBytes(want.AsSpan(128 * k + 64 + 4 * lane), (short)c[1]);
                            BitConverter.TryWriteBytes(want.AsSpan(128 * k + 64 + 4 * lane + 2), (short)c[3]);
                        }
                    }
                if (Q8Gemm.PathSupported(SimdPath.V256))
                {
                    if (Q8Gemm.Widest >= SimdPath.V256)
                        Assert.True(new ReadOnlySpan<byte>(pg + Q8Gemm.TransOffset, 1024).SequenceEqual(want), $"{format} Pack group {g} (seed {seed})");
                    fixed (byte* pgot = got)
                    {
                        if (format == WeightFormat.Q4_0) Q8Gemm.Transpose256<GemmQ4_0>(pg + Q8Gemm.CodesOffset, pgot);
                        else Q8Gemm.Transpose256<GemmQ8_0>(pg + Q8Gemm.CodesOffset, pgot);
                    }
                    Assert.True(got.AsSpan().SequenceEqual(want), $"{format} Transpose256 group {g} (seed {seed})");
                }
            }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_0, 1, 40)]
    [InlineData(WeightFormat.Q8_0, 1, 40)]
    [InlineData(WeightFormat.Q4_0, 5, 40)]
    [InlineData(WeightFormat.Q8_0, 5, 40)]
    [InlineData(WeightFormat.Q4_0, 5, 24)]   // few tokens: rows of two groups in registers
    [InlineData(WeightFormat.Q4_0, 1, 24)]   // one token: a group plus a half
    [InlineData(WeightFormat.Q8_0, 1, 24)]   // one token: a group plus a half
    public void Unusual_weight_scales_give_the_reference_bits_on_every_path(WeightFormat format, int m, int nb)
    {
        // zero, subnormal, negative, the largest fp16 and an infinity among the block scales (the one- and few-token paths widen
        // scales in registers and send groups holding inf/NaN patterns to the table)
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        const int rows = 9;
        var p = Make(format, rows, m, nb, rng);
        ushort[] special = [0x0000, 0x8000, 0x0001, 0x03FF, 0x8001, 0x0400, 0x7BFF, 0xFBFF, 0xBC00, 0x7C00, 0x7E00];
        int bb = format == WeightFormat.Q4_0 ? 18 : 34;
        for (int r = 0; r < rows; r++)
            for (int ib = 0; ib < nb; ib++)
                if (rng.Next(3) == 0)
                {
                    // rows 0..5 finite only; rows 6..8 may hold inf/NaN scales
                    ushort h = special[rng.Next(r < 6 ? special.Length - 2 : special.Length)];
                    BitConverter.TryWriteBytes(p.Weights.AsSpan(r * p.RowBytes + ib * bb, 2), h);
                }
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V128, SimdPath.V256, SimdPath.V512 })
        {
            if (!Q8Gemm.PathSupported(path)) continue;
            var y = Run(p, path, 0, rows);
            for (int t = 0; t < m; t++)
                for (int r = 0; r < rows; r++)
                {
                    float got = y[t * rows + r], want = Reference(p, r, t);
                    Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want) || (float.IsNaN(got) && float.IsNaN(want)),
                        $"{format} {path} row {r} token {t} ({nb} blocks): {got:R} != reference {want:R} (seed {seed})");
                }
        }
    }

    [Theory]
    [InlineData(24, 7, 20)]    // the group of 8 of an 8-row step's last row
    [InlineData(24, 8, 3)]     // a full group of the second step's first row
    [InlineData(40, 15, 39)]   // the second step's last row, the group of 8 after two full groups
    [InlineData(40, 0, 0)]     // the first block of the first row
    [InlineData(24, 1, 21)]    // 768 columns: the group of 8 of a row pair's second row
    [InlineData(24, 14, 2)]    // 768 columns: a full group of the last pair's first row
    public void One_token_Q4_0_rows_with_an_inf_scale_are_run_again_exactly(int nb, int row, int block)
    {
        // the one-token 8-row steps fold every scale and test the step's exponent fields once at its end; a step holding an
        // inf/NaN pattern is thrown away and run again with the per-row test: every row (the other steps' too) keeps the
        // reference bits
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        const int rows = 16;
        var p = Make(WeightFormat.Q4_0, rows, 1, nb, rng);
        BitConverter.TryWriteBytes(p.Weights.AsSpan(row * p.RowBytes + block * 18, 2), (ushort)0x7C00);
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V256, SimdPath.V512 })
        {
            if (!Q8Gemm.PathSupported(path)) continue;
            var y = Run(p, path, 0, rows);
            for (int r = 0; r < rows; r++)
            {
                float got = y[r], want = Reference(p, r, 0);
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want) || (float.IsNaN(got) && float.IsNaN(want)),
                    $"{path} row {r} ({nb} blocks, inf at row {row} block {block}): {got:R} != reference {want:R} (seed {seed})");
            }
        }
    }

    [Theory]
    [InlineData(0, 16)]    // a block of the full group
    [InlineData(19, 16)]   // a block of the group of 8
    [InlineData(23, 5)]    // the last block, an odd row count
    public void One_token_768_column_Q4_0_rows_with_the_largest_activation_scale_keep_the_reference_bits(int block, int rows)
    {
        // d_a = 65504 (the largest fp16 activation scale), above the 2^15 the kernels' scale fold is documented for: the rows
        // two at a time (GemvRows24) leave it to the 8-row steps' exact path, and every row keeps the reference bits
        int seed = Environment.TickCount;
        var p = Make(WeightFormat.Q4_0, rows, 1, 24, new Random(seed));
        BitConverter.TryWriteBytes(p.Acts.AsSpan(block * 34, 2), BitConverter.HalfToUInt16Bits((Half)65504f));
        fixed (byte* a = p.Acts) fixed (byte* pp = p.Panels) Q8Gemm.Pack(p.Kernel, a, p.Nb, pp);
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V256, SimdPath.V512 })
        {
            if (!Q8Gemm.PathSupported(path)) continue;
            var y = Run(p, path, 0, rows);
            for (int r = 0; r < rows; r++)
            {
                float got = y[r], want = Reference(p, r, 0);
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                    $"{path} row {r} (d_a 65504 at block {block}): {got:R} != reference {want:R} (seed {seed})");
            }
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_0, 1)]
    [InlineData(WeightFormat.Q4_0, 6)]
    [InlineData(WeightFormat.Q8_0, 1)]
    [InlineData(WeightFormat.Q8_0, 6)]
    public void Extreme_codes_keep_exact_block_sums_on_every_path(WeightFormat format, int m)
    {
        // The 512-bit paths add up to 8 nibble x code pair sums in 16 bits and Q8_0 codes of -128 meet the sign trick:
        // blocks of all-largest codes times activations of all +-127 are where an intermediate would overflow.
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        const int rows = 6, nb = 40;
        var p = Make(format, rows, m, nb, rng);
        int bb = format == WeightFormat.Q4_0 ? 18 : 34;
        for (int r = 0; r < rows; r++)
            for (int ib = 0; ib < nb; ib++)
            {
                int o = r * p.RowBytes + ib * bb;
                BitConverter.TryWriteBytes(p.Weights.AsSpan(o, 2), (ushort)0x3C00);   // d = 1
                int kind = (r + ib) % 3;   // all largest, all smallest, alternating
                for (int j = 0; j < bb - 2; j++)
                    p.Weights[o + 2 + j] = format == WeightFormat.Q4_0
                        ? (byte)(kind == 0 ? 0xFF : kind == 1 ? 0x00 : (j & 1) == 0 ? 0x0F : 0xF0)
                        : (byte)(kind == 0 ? 0x7F : kind == 1 ? 0x80 : (j & 1) == 0 ? 0x7F : 0x80);
            }
        int cols = nb * 32;
        var x = new float[cols];
        for (int t = 0; t < m; t++)
        {
            for (int c = 0; c < cols; c++) x[c] = t % 3 == 0 ? 1f : t % 3 == 1 ? -1f : (c & 1) == 0 ? 1f : -1f;
            p.Kernel.QuantizeActivation(x, p.Acts.AsSpan(t * p.ActBytes, p.ActBytes));
            fixed (byte* pa = p.Acts) fixed (byte* pp = p.Panels) Q8Gemm.Pack(p.Kernel, pa + t * p.ActBytes, nb, pp + t * p.PanelBytes);
        }
        foreach (SimdPath path in new[] { SimdPath.Scalar, SimdPath.V128, SimdPath.V256, SimdPath.V512 })
        {
            if (!Q8Gemm.PathSupported(path)) continue;
            var y = Run(p, path, 0, rows);
            for (int t = 0; t < m; t++)
                for (int r = 0; r < rows; r++)
                {
                    float got = y[t * rows + r], want = Reference(p, r, t);
                    Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want),
                        $"{format} {path} row {r} token {t}: {got:R} != reference {want:R} (seed {seed})");
                }
        }
        for (int t = 0; t < m; t++)
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, mag = 0;
                for (int ib = 0; ib < nb; ib++)
                {
                    int wo = r * p.RowBytes + ib * bb, ao = t * p.ActBytes + ib * 34;
                    double da = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(p.Acts, ao));
                    for (int j = 0; j < 32; j++)
                    {
                        int wc = format == WeightFormat.Q4_0
                            ? (j < 16 ? p.Weights[wo + 2 + j] & 0x0F : p.Weights[wo + 2 + j - 16] >> 4) - 8
                            : (sbyte)p.Weights[wo + 2 + j];
                        double term = da * wc * (sbyte)p.Acts[ao + 2 + j];
                        exact += term;
                        mag += Math.Abs(term);
                    }
                }
                float got = Reference(p, r, t);
                Assert.True(Math.Abs(got - exact) <= 1e-5 * mag + 1e-30, $"{format} row {r} token {t}: {got:R} vs exact {exact:R} (seed {seed})");
            }
    }

    [Fact]
    public void Register_half_widening_equals_the_exact_conversion_for_every_finite_pattern()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        var lanes = new int[16];
        for (int h0 = 0; h0 < 65536; h0 += 16)
        {
            for (int k = 0; k < 16; k++) lanes[k] = (h0 + k) | (0x5A5A << 16);   // the high halves hold other bytes
            var got = Q8Gemm.HalfToSingle(System.Runtime.Intrinsics.Vector512.Create(lanes));
            for (int k = 0; k < 16; k++)
            {
                ushort h = (ushort)(h0 + k);
                if ((h & 0x7C00) == 0x7C00) continue;   // inf/NaN go through the table
                float want = (float)BitConverter.UInt16BitsToHalf(h);
                Assert.True(BitConverter.SingleToInt32Bits(got[k]) == BitConverter.SingleToInt32Bits(want), $"half 0x{h:X4}: {got[k]:R} != {want:R}");
            }
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_0)]
    [InlineData(WeightFormat.Q8_0)]
    public void Reference_is_the_product_of_the_codes(WeightFormat format)
    {
        int seed = Environment.TickCount;
        var p = Make(format, 5, 3, 7, new Random(seed));
        for (int r = 0; r < 5; r++)
            for (int t = 0; t < 3; t++)
            {
                double exact = 0, mag = 0;
                for (int ib = 0; ib < p.Nb; ib++)
                {
                    int wo = r * p.RowBytes + ib * (format == WeightFormat.Q4_0 ? 18 : 34), ao = t * p.ActBytes + ib * 34;
                    double dw = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(p.Weights, wo));
                    double da = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(p.Acts, ao));
                    for (int j = 0; j < 32; j++)
                    {
                        int wc = format == WeightFormat.Q4_0
                            ? (j < 16 ? p.Weights[wo + 2 + j] & 0x0F : p.Weights[wo + 2 + j - 16] >> 4) - 8
                            : (sbyte)p.Weights[wo + 2 + j];
                        double term = dw * da * wc * (sbyte)p.Acts[ao + 2 + j];
                        exact += term;
                        mag += Math.Abs(term);
                    }
                }
                float got = Reference(p, r, t);
                Assert.True(Math.Abs(got - exact) <= 1e-5 * mag + 1e-30, $"{format} row {r} token {t}: {got:R} vs exact {exact:R} (seed {seed})");
            }
    }

    [Theory]
    [InlineData(WeightFormat.Q4_0, 1056, 9)]
    [InlineData(WeightFormat.Q8_0, 1056, 9)]
    [InlineData(WeightFormat.Q4_0, 768, 9)]     // the one-token rows two at a time (GemvRows24)
    [InlineData(WeightFormat.Q8_0, 2816, 37)]   // 5 groups plus a half: the tiles' column spans
    [InlineData(WeightFormat.Q4_0, 768, 17)]    // the direct path in token groups: 8 + 9, 15 + 16, 11 + 11 + 11
    [InlineData(WeightFormat.Q8_0, 768, 17)]
    [InlineData(WeightFormat.Q4_0, 768, 31)]
    [InlineData(WeightFormat.Q8_0, 768, 31)]
    [InlineData(WeightFormat.Q4_0, 768, 33)]
    [InlineData(WeightFormat.Q8_0, 768, 33)]
    [InlineData(WeightFormat.Q4_0, 2048, 33)]
    [InlineData(WeightFormat.Q8_0, 3072, 33)]
    public void MatMul_rows_are_batch_and_thread_invariant(WeightFormat format, int cols, int m)
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var kernel = KernelRegistry.VecDot(format);
        var codec = CodecRegistry.For(format);
        const int rows = 301;   // rows x cols x m above MatMul.InlineWork: the pool splits
        int rb = (int)kernel.WeightRowBytes(cols);
        var weights = new byte[rows * rb];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() - 0.5);
            codec.Quantize(row, weights.AsSpan(r * rb, rb));
        }
        var x = new float[m * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        float[] Compute(int threads, int first, int count)
        {
            using var pool = new WorkerPool(threads);
            var y = new float[count * rows];
            var scratch = new byte[MatMul.ScratchBytes(kernel, count, cols)];
            MatMul.Compute(kernel, weights, rows, cols, x.AsSpan(first * cols, count * cols), count, y, scratch, pool);
            return y;
        }
        var batch = Compute(2, 0, m);
        var one = Compute(1, 0, m);
        var three = Compute(3, 0, m);
        for (int t = 0; t < m; t++)
        {
            var alone = Compute(1, t, 1);
            for (int r = 0; r < rows; r++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(alone[r]) == BitConverter.SingleToInt32Bits(batch[t * rows + r]),
                    $"{format} row {r} token {t}: alone {alone[r]:R}, in batch {batch[t * rows + r]:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(one[t * rows + r]) == BitConverter.SingleToInt32Bits(batch[t * rows + r]),
                    $"{format} row {r} token {t}: 1 thread {one[t * rows + r]:R}, 2 threads {batch[t * rows + r]:R} (seed {seed})");
                Assert.True(BitConverter.SingleToInt32Bits(three[t * rows + r]) == BitConverter.SingleToInt32Bits(batch[t * rows + r]),
                    $"{format} row {r} token {t}: 3 threads {three[t * rows + r]:R}, 2 threads {batch[t * rows + r]:R} (seed {seed})");
            }
        }
    }
}
