using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Q4_K weight row · Q8_K activation row ("q4_k*q8_k"), ggml's ggml_vec_dot_q4_K_q8_K. Per super-block the
/// integer part Σ_j sc_j Σ q4·q8 is exact (vpmaddubsw + vpmaddwd on the SIMD paths), the min part uses the
/// activation's bsums, and the float combination acc += d·isum; acc -= dmin·summ is done in the same order on
/// every path, so <see cref="Dot"/> equals <see cref="DotReference"/> bit for bit.
/// </summary>
public sealed unsafe class VecDotQ4_K : KQuantVecDotKernel
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly VecDotQ4_K Instance = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ4_K() : base(WeightFormat.Q4_K, "q4_k*q8_k", GgmlType.Q4_K, BlockQ4_K.Size) { }

    /// <inheritdoc/>
    private protected override float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path)
    {
        if (path == SimdPath.V512) return Dot512(wb, ab, nb);
        if (path == SimdPath.V256) return Dot256(wb, ab, nb);
        byte* u = stackalloc byte[256];    // unpacked 4-bit quants of one super-block
        short* sc = stackalloc short[16];  // scale per 16-group
        short* mn = stackalloc short[16];  // min per 16-group
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        float acc = 0;
        var x = (BlockQ4_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            for (int j = 0; j < 8; j++)
            {
                KQuantMath.GetScaleMinK4(j, x->Scales, out byte s, out byte m);
                sc[2 * j] = sc[2 * j + 1] = s;
                mn[2 * j] = mn[2 * j + 1] = m;
            }
            int isum;
            {
                byte* q = x->Qs;
                for (int k = 0; k < 4; k++, q += 32)
                {
                    Vector128<byte> a = Vector128.Load(q), b = Vector128.Load(q + 16);
                    (a & mask).Store(u + 64 * k);
                    (b & mask).Store(u + 64 * k + 16);
                    Vector128.ShiftRightLogical(a, 4).Store(u + 64 * k + 32);
                    Vector128.ShiftRightLogical(b, 4).Store(u + 64 * k + 48);
                }
                isum = Q8KActivation.ScaledDot256(u, y->Qs, sc);
            }
            int summ = Q8KActivation.GroupSum(mn, y);
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }

    /// <summary>Batch 1 (<see cref="KQuantVecDotKernel.DotRows"/>): with AVX-512 BW and GFNI, 8 rows at a time through
    /// <see cref="Rows8"/>; the last 1..7 rows of a range (the pool's tiles are 16 rows) and other paths one
    /// <see cref="DotBlocks"/> per row; the same bits either way.</summary>
    private protected override void DotRowsSimd(byte* w, long rowBytes, int r0, int r1, byte* act, int nb, float* y, SimdPath path)
    {
        int r = r0;
        if (path == SimdPath.V512 && Gfni.V512.IsSupported)
            for (; r + 8 <= r1; r += 8) Rows8(w + r * rowBytes, rowBytes, act, nb, y + r);
        for (; r < r1; r++) y[r] = DotBlocks(w + r * rowBytes, act, nb, path);
    }

    /// <summary>
    /// y[0..7] for the 8 rows at w (row stride <paramref name="rowBytes"/>) and one Q8_K row of <paramref name="nb"/>
    /// blocks: per super-block each row's exact integers isum = Σ_j sc_j Σ q4·q8 and summ = Σ_j m_j·(bsum_2j + bsum_2j+1)
    /// (the same integers as <see cref="Dot512"/>, however they are summed), then per row acc += d·isum; acc −= dmin·summ
    /// in block order, the rows in the 8 lanes of one vector (lane-wise the same float steps). The activation block is
    /// loaded once for the 8 rows (regrouped in 128-bit lanes to match the quant loads); the quants are read 64 bytes at a
    /// time, low nibbles by a mask, high nibbles by one GFNI affine transform (no cross-lane shuffles per row). The 16-byte
    /// block headers (d, dmin, packed scales) of rows 0..3 and 4..7 are unpacked in one register each
    /// (<see cref="KQuantSimd.ScaleMinK4x4"/>; no scalar work per row), each chunk's two sub-block scales spread by an
    /// in-lane byte shuffle; the 8 rows' 16 F16 values (d, dmin) are converted in one 512-bit step
    /// (<see cref="KQuantSimd.Fp16ToFp32(Vector512{uint})"/>), and their mins corrections and integer sums reduced together
    /// (<see cref="KQuantSimd.SumRows8"/>). That per-block work outside the quant products took a third of the time of the
    /// former 4-row step; over 8 rows it is shared by twice as many. The group of 8 rows after the next is prefetched into L2.
    /// </summary>
    // NoInlining: compiled as its own root, so its eight RowSums calls are inlined even when dynamic PGO has inlined
    // the row loop into a large caller (the pool's RunRange) whose inlining budget is spent; seen as a separate BlockSums
    // frame taking 12% of 1B Q4_K decode.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Rows8(byte* w, long rowBytes, byte* act, int nb, float* y)
    {
        var y8 = (BlockQ8_K*)act;
        // rows 16..23 ahead (the group after the next) into L2, whatever the row length: with 2 threads streaming from
        // DRAM, 16 rows ahead measured +7% over 8 (and +5% over 24) on the 1B shapes, and into L2 instead of L1 +30% on
        // the 160M shapes (768 columns; into L1 at 2048 columns -18%)
        byte* ahead = w + 16 * rowBytes;
        Vector512<sbyte> c0 = ScaleSpread(0, 2), c1 = ScaleSpread(1, 3), c2 = ScaleSpread(4, 6), c3 = ScaleSpread(5, 7);
        Vector512<sbyte> minSpread = MinSpread;
        // dword 0 of each 128-bit lane of two vectors (the rows' d | dmin << 16), twice: lanes 0..7 rows 0..7, 8..15 again
        Vector512<uint> firstOfLanes = Vector512.Create(0u, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        // row r's [summ, summ, ., .] of the A (rows 0..3) and B (rows 4..7) mins halves: dwords 4r and 4r + 2
        Vector512<int> summAt = Vector512.Create(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        Vector512<uint> halfShift = Vector512.Create(0u, 0, 0, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16);
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, y8++)
        {
            byte* pp = ahead + (long)i * (8 * BlockQ4_K.Size);
            Prefetch1x9(pp);
            Prefetch1x9(pp + 4 * BlockQ4_K.Size);
            sbyte* q8 = y8->Qs;
            Vector512<int> v0 = Vector512.Load(q8).AsInt32(), v1 = Vector512.Load(q8 + 64).AsInt32(), v2 = Vector512.Load(q8 + 128).AsInt32(), v3 = Vector512.Load(q8 + 192).AsInt32();
            Vector512<sbyte> a0 = Avx512F.Shuffle4x128(v0, v1, 0x44).AsSByte(), a1 = Avx512F.Shuffle4x128(v0, v1, 0xEE).AsSByte();
            Vector512<sbyte> a2 = Avx512F.Shuffle4x128(v2, v3, 0x44).AsSByte(), a3 = Avx512F.Shuffle4x128(v2, v3, 0xEE).AsSByte();
            Vector128<short> pairs = Ssse3.HorizontalAdd(Vector128.Load(y8->BSums), Vector128.Load(y8->BSums + 8));   // |pair| <= 2·16·128
            Vector512<short> pairs4 = Vector512.Create(Vector256.Create(pairs, pairs), Vector256.Create(pairs, pairs));
            byte* x0 = w + (long)i * BlockQ4_K.Size;
            Vector512<uint> headA = Vector512.Create(Vector256.Create(Vector128.Load(x0), Vector128.Load(x0 + rowBytes)),
                                                     Vector256.Create(Vector128.Load(x0 + 2 * rowBytes), Vector128.Load(x0 + 3 * rowBytes))).AsUInt32();
            byte* x4 = x0 + 4 * rowBytes;
            Vector512<uint> headB = Vector512.Create(Vector256.Create(Vector128.Load(x4), Vector128.Load(x4 + rowBytes)),
                                                     Vector256.Create(Vector128.Load(x4 + 2 * rowBytes), Vector128.Load(x4 + 3 * rowBytes))).AsUInt32();
            Vector512<byte> smA = KQuantSimd.ScaleMinK4x4(headA), smB = KQuantSimd.ScaleMinK4x4(headB);
            Vector512<int> h0 = RowSums(x0 + 16, Avx512F.Shuffle4x128(smA.AsUInt32(), smA.AsUInt32(), 0x00).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h1 = RowSums(x0 + rowBytes + 16, Avx512F.Shuffle4x128(smA.AsUInt32(), smA.AsUInt32(), 0x55).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h2 = RowSums(x0 + 2 * rowBytes + 16, Avx512F.Shuffle4x128(smA.AsUInt32(), smA.AsUInt32(), 0xAA).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h3 = RowSums(x0 + 3 * rowBytes + 16, Avx512F.Shuffle4x128(smA.AsUInt32(), smA.AsUInt32(), 0xFF).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h4 = RowSums(x4 + 16, Avx512F.Shuffle4x128(smB.AsUInt32(), smB.AsUInt32(), 0x00).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h5 = RowSums(x4 + rowBytes + 16, Avx512F.Shuffle4x128(smB.AsUInt32(), smB.AsUInt32(), 0x55).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h6 = RowSums(x4 + 2 * rowBytes + 16, Avx512F.Shuffle4x128(smB.AsUInt32(), smB.AsUInt32(), 0xAA).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector512<int> h7 = RowSums(x4 + 3 * rowBytes + 16, Avx512F.Shuffle4x128(smB.AsUInt32(), smB.AsUInt32(), 0xFF).AsByte(), a0, a1, a2, a3, c0, c1, c2, c3);
            Vector256<int> isum = KQuantSimd.SumRows8(h0, h1, h2, h3, h4, h5, h6, h7);   // exact: lane k = isum of row k
            // summ of row r: lane r's 4 int32 of its half's mins products, summed (exact)
            Vector512<int> mA = Avx512BW.MultiplyAddAdjacent(Avx512BW.Shuffle(smA.AsSByte(), minSpread).AsInt16(), pairs4);
            Vector512<int> mB = Avx512BW.MultiplyAddAdjacent(Avx512BW.Shuffle(smB.AsSByte(), minSpread).AsInt16(), pairs4);
            Vector512<int> mv = Avx512F.UnpackLow(mA.AsInt64(), mB.AsInt64()).AsInt32() + Avx512F.UnpackHigh(mA.AsInt64(), mB.AsInt64()).AsInt32();
            mv += Avx512F.Shuffle(mv, 0xB1);   // lane r: [summ A_r, summ A_r, summ B_r, summ B_r]
            Vector256<int> summ = Avx512F.PermuteVar16x32(mv, summAt).GetLower();
            Vector512<uint> dd = Avx512F.PermuteVar16x32x2(headA, firstOfLanes, headB);   // row r: d | dmin << 16, twice
            Vector512<float> f = KQuantSimd.Fp16ToFp32(Avx512F.ShiftRightLogicalVariable(dd, halfShift) & Vector512.Create(0xFFFFu));
            Vector256<float> yd = Vector256.Create(y8->D);
            Vector256<float> d = yd * f.GetLower();
            Vector256<float> dmin = yd * f.GetUpper();
            acc += d * Vector256.ConvertToSingle(isum);
            acc -= dmin * Vector256.ConvertToSingle(summ);
        }
        acc.Store(y);
    }

    /// <summary>One row's super-block for <see cref="Rows8"/>: 16 int32 lanes summing to isum. q: the 128 quant bytes;
    /// sm: the row's scales and mins (<see cref="KQuantSimd.ScaleMinK4x4"/>) in every 128-bit lane; a0..a3: the
    /// activation regrouped as in <see cref="Rows8"/>; c0..c3: the chunks' scale spreads (<see cref="ScaleSpread"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> RowSums(byte* q, Vector512<byte> sm, Vector512<sbyte> a0, Vector512<sbyte> a1, Vector512<sbyte> a2, Vector512<sbyte> a3,
        Vector512<sbyte> c0, Vector512<sbyte> c1, Vector512<sbyte> c2, Vector512<sbyte> c3)
    {
        Vector512<byte> high = Vector512.Create(HighNibble).AsByte(), m4 = Vector512.Create((byte)0x0F);
        Vector512<sbyte> s = sm.AsSByte();
        Vector512<byte> q01 = Vector512.Load(q), q23 = Vector512.Load(q + 64);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q01 & m4, a0), Avx512BW.Shuffle(s, c0).AsInt16())
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Gfni.V512.GaloisFieldAffineTransform(q01, high, 0), a1), Avx512BW.Shuffle(s, c1).AsInt16())
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q23 & m4, a2), Avx512BW.Shuffle(s, c2).AsInt16())
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Gfni.V512.GaloisFieldAffineTransform(q23, high, 0), a3), Avx512BW.Shuffle(s, c3).AsInt16());
    }

    /// <summary>vpshufb control: per 128-bit lane the 8 mins (bytes 8..15 of <see cref="KQuantSimd.ScaleMinK4x4"/>'s lane)
    /// zero-extended to int16.</summary>
    internal static Vector512<sbyte> MinSpread
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(
            8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128,
            8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128,
            8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128,
            8, -128, 9, -128, 10, -128, 11, -128, 12, -128, 13, -128, 14, -128, 15, -128);
    }

    /// <summary>vpshufb control spreading scale byte <paramref name="first"/> zero-extended over the int16 lanes of the
    /// lower 256 bits and byte <paramref name="second"/> over the upper ones.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector512<sbyte> ScaleSpread(int first, int second)
    {
        Vector512<short> lanes = Vector512.Create(Vector256.Create((short)first), Vector256.Create((short)second));
        return (lanes | Vector512.Create(unchecked((short)0x8000))).AsSByte();
    }

    /// <summary>Prefetches the 576 bytes (4 blocks) at <paramref name="p"/> into L2, one instruction per line (no loop).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Prefetch1x9(byte* p)
    {
        Sse.Prefetch1(p); Sse.Prefetch1(p + 64); Sse.Prefetch1(p + 128); Sse.Prefetch1(p + 192); Sse.Prefetch1(p + 256);
        Sse.Prefetch1(p + 320); Sse.Prefetch1(p + 384); Sse.Prefetch1(p + 448); Sse.Prefetch1(p + 512);
    }

    // GF(2) affine matrix (output bit i's row in byte 7 − i): a byte's high nibble shifted down
    internal const ulong HighNibble = 0x1020408000000000UL;

    // 512-bit path: scales and mins unpacked on words, quants split into nibbles in registers, one vpermw spreads
    // the two sub-block scales of each 64-quant chunk; integer sums are exact, the float steps match the reference.
    private static float Dot512(byte* wb, byte* ab, int nb)
    {
        // vpermw controls: chunk k covers sub-blocks 2k (pair-sums 0..15) and 2k+1 (16..31)
        Vector512<short> idx0 = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector512<short> two = Vector512.Create((short)2);
        float acc = 0;
        var x = (BlockQ4_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector128<byte> sm = KQuantSimd.ScaleMinK4(x->Scales);
            Vector512<short> s = Vector128.WidenLower(sm).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            byte* q = x->Qs;
            sbyte* q8 = y->Qs;
            Vector256<byte> a0 = Vector256.Load(q), a1 = Vector256.Load(q + 32), a2 = Vector256.Load(q + 64), a3 = Vector256.Load(q + 96);
            Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(KQuantSimd.Lo(a0), KQuantSimd.Hi(a0)), Vector512.Load(q8));
            Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(KQuantSimd.Lo(a1), KQuantSimd.Hi(a1)), Vector512.Load(q8 + 64));
            Vector512<short> p2 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(KQuantSimd.Lo(a2), KQuantSimd.Hi(a2)), Vector512.Load(q8 + 128));
            Vector512<short> p3 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(KQuantSimd.Lo(a3), KQuantSimd.Hi(a3)), Vector512.Load(q8 + 192));
            Vector512<short> idx1 = idx0 + two, idx2 = idx1 + two, idx3 = idx2 + two;
            Vector512<int> acc0 = Avx512BW.MultiplyAddAdjacent(p0, Avx512BW.PermuteVar32x16(s, idx0))
                                + Avx512BW.MultiplyAddAdjacent(p2, Avx512BW.PermuteVar32x16(s, idx2));
            Vector512<int> acc1 = Avx512BW.MultiplyAddAdjacent(p1, Avx512BW.PermuteVar32x16(s, idx1))
                                + Avx512BW.MultiplyAddAdjacent(p3, Avx512BW.PermuteVar32x16(s, idx3));
            int isum = KQuantSimd.Sum(acc0 + acc1);
            int summ = KQuantSimd.MinSum(sm, y->BSums);
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }

    // 256-bit path: same scheme, one broadcast scale per 32-quant sub-block.
    private static float Dot256(byte* wb, byte* ab, int nb)
    {
        float acc = 0;
        var x = (BlockQ4_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector128<byte> sm = KQuantSimd.ScaleMinK4(x->Scales);
            Vector128<short> s = Vector128.WidenLower(sm).AsInt16();
            byte* q = x->Qs;
            sbyte* q8 = y->Qs;
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            for (int k = 0; k < 4; k++)
            {
                Vector256<byte> a = Vector256.Load(q + 32 * k);
                Vector256<short> plo = Avx2.MultiplyAddAdjacent(KQuantSimd.Lo(a), Vector256.Load(q8 + 64 * k));
                Vector256<short> phi = Avx2.MultiplyAddAdjacent(KQuantSimd.Hi(a), Vector256.Load(q8 + 64 * k + 32));
                acc0 += Avx2.MultiplyAddAdjacent(plo, Vector256.Create(s.GetElement(2 * k)));
                acc1 += Avx2.MultiplyAddAdjacent(phi, Vector256.Create(s.GetElement(2 * k + 1)));
            }
            int isum = KQuantSimd.Sum(acc0 + acc1);
            int summ = KQuantSimd.MinSum(sm, y->BSums);
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }

    /// <inheritdoc/>
    private protected override float ReferenceBlocks(byte* wb, byte* ab, int nb)
    {
        float acc = 0;
        var x = (BlockQ4_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            int isum = 0, summ = 0;
            for (int j = 0; j < 8; j++)
            {
                KQuantMath.GetScaleMinK4(j, x->Scales, out byte s, out byte m);
                byte* q = x->Qs + 32 * (j / 2);
                int shift = 4 * (j % 2);
                int dot = 0;
                for (int l = 0; l < 32; l++) dot += ((q[l] >> shift) & 0xF) * y->Qs[32 * j + l];
                isum += s * dot;
                summ += m * (y->BSums[2 * j] + y->BSums[2 * j + 1]);
            }
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }
}
