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

    /// <summary>Batch 1 (<see cref="KQuantVecDotKernel.DotRows"/>): with AVX-512 BW and GFNI, 4 rows at a time through
    /// <see cref="Rows4"/>, the rest (and other paths) one <see cref="DotBlocks"/> per row; the same bits either way.</summary>
    private protected override void DotRowsSimd(byte* w, long rowBytes, int r0, int r1, byte* act, int nb, float* y, SimdPath path)
    {
        int r = r0;
        if (path == SimdPath.V512 && Gfni.V512.IsSupported)
            for (; r + 4 <= r1; r += 4) Rows4(w + r * rowBytes, rowBytes, act, nb, y + r);
        for (; r < r1; r++) y[r] = DotBlocks(w + r * rowBytes, act, nb, path);
    }

    /// <summary>
    /// y[0..3] for the 4 rows at w (row stride <paramref name="rowBytes"/>) and one Q8_K row of <paramref name="nb"/>
    /// blocks: per super-block each row's exact integers isum = Σ_j sc_j Σ q4·q8 and summ = Σ_j m_j·(bsum_2j + bsum_2j+1)
    /// (the same integers as <see cref="Dot512"/>, however they are summed), then per row acc += d·isum; acc −= dmin·summ
    /// in block order, the rows in the 4 lanes of one vector (lane-wise the same float steps). The activation block is
    /// loaded once for the 4 rows (regrouped in 128-bit lanes to match the quant loads) and the rows' sums are reduced
    /// together; the quants are read 64 bytes at a time, low nibbles by a mask, high nibbles by one GFNI affine transform
    /// (no cross-lane shuffles per row). Rows 8..11 ahead are prefetched.
    /// </summary>
    // NoInlining: compiled as its own root, so its four BlockSums calls are inlined even when dynamic PGO has inlined
    // the row loop into a large caller (the pool's RunRange) whose inlining budget is spent; seen as a separate BlockSums
    // frame taking 12% of 1B Q4_K decode.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Rows4(byte* w, long rowBytes, byte* act, int nb, float* y)
    {
        var y8 = (BlockQ8_K*)act;
        // the 4 rows after the next 4 (rows are contiguous): each block step prefetches 4 blocks' worth of them; measured
        // better than the next 4 rows for 768- to 3072-column rows
        byte* ahead = w + 8 * rowBytes;
        bool l1 = 4 * rowBytes <= 8192;  // short tiles into L1, longer ones into L2
        Vector128<float> acc = Vector128<float>.Zero;
        for (int i = 0; i < nb; i++, y8++)
        {
            byte* pp = ahead + (long)i * (4 * BlockQ4_K.Size);
            if (l1) for (int p = 0; p < 4 * BlockQ4_K.Size; p += 64) Sse.Prefetch0(pp + p);
            else for (int p = 0; p < 4 * BlockQ4_K.Size; p += 64) Sse.Prefetch1(pp + p);
            sbyte* q8 = y8->Qs;
            // activations regrouped once for the 4 rows to match 64-byte quant loads: p0 = [q8 0..31 | 64..95] (low
            // nibbles of quant bytes 0..63: sub-blocks 0 and 2), p1 = [32..63 | 96..127] (high nibbles: 1 and 3), p2, p3
            // likewise for bytes 64..127 (sub-blocks 4, 6 and 5, 7)
            Vector512<int> c0 = Vector512.Load(q8).AsInt32(), c1 = Vector512.Load(q8 + 64).AsInt32(), c2 = Vector512.Load(q8 + 128).AsInt32(), c3 = Vector512.Load(q8 + 192).AsInt32();
            Vector512<sbyte> a0 = Avx512F.Shuffle4x128(c0, c1, 0x44).AsSByte(), a1 = Avx512F.Shuffle4x128(c0, c1, 0xEE).AsSByte();
            Vector512<sbyte> a2 = Avx512F.Shuffle4x128(c2, c3, 0x44).AsSByte(), a3 = Avx512F.Shuffle4x128(c2, c3, 0xEE).AsSByte();
            Vector128<short> pairs = Ssse3.HorizontalAdd(Vector128.Load(y8->BSums), Vector128.Load(y8->BSums + 8));   // |pair| <= 2·16·128
            long o = (long)i * BlockQ4_K.Size;
            var x0 = (BlockQ4_K*)(w + o);
            var x1 = (BlockQ4_K*)(w + rowBytes + o);
            var x2 = (BlockQ4_K*)(w + 2 * rowBytes + o);
            var x3 = (BlockQ4_K*)(w + 3 * rowBytes + o);
            Vector256<int> h0 = BlockSums(x0, a0, a1, a2, a3, pairs, out Vector128<int> m0), h1 = BlockSums(x1, a0, a1, a2, a3, pairs, out Vector128<int> m1);
            Vector256<int> h2 = BlockSums(x2, a0, a1, a2, a3, pairs, out Vector128<int> m2), h3 = BlockSums(x3, a0, a1, a2, a3, pairs, out Vector128<int> m3);
            // exact: lane k = isum (summ) of row k
            Vector256<int> t = Avx2.HorizontalAdd(Avx2.HorizontalAdd(h0, h1), Avx2.HorizontalAdd(h2, h3));
            Vector128<int> isum = t.GetLower() + t.GetUpper();
            Vector128<int> summ = Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(m0, m1), Ssse3.HorizontalAdd(m2, m3));
            float yd = y8->D;
            Vector128<float> d = Vector128.Create(
                yd * KQuantMath.Fp16ToFp32(x0->D), yd * KQuantMath.Fp16ToFp32(x1->D),
                yd * KQuantMath.Fp16ToFp32(x2->D), yd * KQuantMath.Fp16ToFp32(x3->D));
            Vector128<float> dmin = Vector128.Create(
                yd * KQuantMath.Fp16ToFp32(x0->DMin), yd * KQuantMath.Fp16ToFp32(x1->DMin),
                yd * KQuantMath.Fp16ToFp32(x2->DMin), yd * KQuantMath.Fp16ToFp32(x3->DMin));
            acc += d * Vector128.ConvertToSingle(isum);
            acc -= dmin * Vector128.ConvertToSingle(summ);
        }
        acc.Store(y);
    }

    /// <summary>One row's super-block for <see cref="Rows4"/>: 8 int32 lanes summing to isum, and in
    /// <paramref name="mins"/> 4 lanes summing to summ. pairs: bsum_2j + bsum_2j+1 for j = 0..7. a0..a3: the activation
    /// regrouped as in <see cref="Rows4"/>. The quants are read 64 bytes at a time: the low nibbles of bytes 0..63 are
    /// sub-blocks 0 and 2, their high nibbles (one GFNI affine transform) sub-blocks 1 and 3; bytes 64..127 hold 4..7 alike.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSums(BlockQ4_K* x, Vector512<sbyte> a0, Vector512<sbyte> a1, Vector512<sbyte> a2, Vector512<sbyte> a3,
        Vector128<short> pairs, out Vector128<int> mins)
    {
        Vector128<byte> sm = KQuantSimd.ScaleMinK4(x->Scales);
        mins = Sse2.MultiplyAddAdjacent(Vector128.WidenUpper(sm).AsInt16(), pairs);
        Vector512<short> s = Vector128.WidenLower(sm).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
        Vector512<byte> high = Vector512.Create(HighNibble).AsByte(), m4 = Vector512.Create((byte)0x0F);
        byte* q = x->Qs;
        Vector512<byte> q01 = Vector512.Load(q), q23 = Vector512.Load(q + 64);
        // vpermw controls: pair-sums 0..15 take the first sub-block's scale, 16..31 the second's
        Vector512<short> idx = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
        Vector512<int> v = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q01 & m4, a0), Avx512BW.PermuteVar32x16(s, idx))
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Gfni.V512.GaloisFieldAffineTransform(q01, high, 0), a1), Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)1)))
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q23 & m4, a2), Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)4)))
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Gfni.V512.GaloisFieldAffineTransform(q23, high, 0), a3), Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)5)));
        return v.GetLower() + v.GetUpper();
    }

    // GF(2) affine matrix (output bit i's row in byte 7 − i): a byte's high nibble shifted down
    private const ulong HighNibble = 0x1020408000000000UL;

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
