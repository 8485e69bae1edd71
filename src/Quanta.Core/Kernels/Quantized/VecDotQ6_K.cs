using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Q6_K weight row · Q8_K activation row ("q6_k*q8_k"), ggml's ggml_vec_dot_q6_K_q8_K. The SIMD paths multiply
/// the unsigned 6-bit quants (0..63) with vpmaddubsw and remove the -32 offset through the activation's bsums
/// (Σ_g sc_g · 32 · bsum_g), which is exact in integers; the float step acc += d·isum is the same on every path,
/// so <see cref="Dot"/> equals <see cref="DotReference"/> bit for bit.
/// </summary>
public sealed unsafe class VecDotQ6_K : KQuantVecDotKernel
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly VecDotQ6_K Instance = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ6_K() : base(WeightFormat.Q6_K, "q6_k*q8_k", GgmlType.Q6_K, BlockQ6_K.Size) { }

    /// <inheritdoc/>
    private protected override float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path)
    {
        if (path == SimdPath.V512 || path == SimdPath.V256) return DotWide(wb, ab, nb, path == SimdPath.V512);
        byte* u = stackalloc byte[256];    // unpacked unsigned 6-bit quants of one super-block
        short* sc = stackalloc short[16];  // signed scale per 16-group
        Vector128<byte> mask = Vector128.Create((byte)0x0F), three = Vector128.Create((byte)3);
        float acc = 0;
        var x = (BlockQ6_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            for (int g = 0; g < 16; g++) sc[g] = x->Scales[g];
            int udot;
            {
                byte* ql = x->Ql;
                byte* qh = x->Qh;
                byte* uo = u;
                for (int half = 0; half < 2; half++, ql += 64, qh += 32, uo += 128)
                {
                    for (int h = 0; h < 32; h += 16)
                    {
                        Vector128<byte> a = Vector128.Load(ql + h), b = Vector128.Load(ql + 32 + h), hb = Vector128.Load(qh + h);
                        ((a & mask) | Vector128.ShiftLeft(hb & three, 4)).Store(uo + h);
                        ((b & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 2) & three, 4)).Store(uo + 32 + h);
                        (Vector128.ShiftRightLogical(a, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 4) & three, 4)).Store(uo + 64 + h);
                        (Vector128.ShiftRightLogical(b, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 6), 4)).Store(uo + 96 + h);
                    }
                }
                udot = Q8KActivation.ScaledDot256(u, y->Qs, sc);
            }
            int isum = udot - 32 * Q8KActivation.GroupSum(sc, y);
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
        }
        return acc;
    }

    // AVX2 / AVX-512 paths: the 16 scales sign-extended in one register (vpmovsxbw), the -32 offset removed with one
    // vpmaddwd against the bsums; no stack staging, so no narrow-store-to-wide-load stalls.
    private static float DotWide(byte* wb, byte* ab, int nb, bool v512)
    {
        float acc = 0;
        var x = (BlockQ6_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector256<short> sc = Avx2.ConvertToVector256Int16(Vector128.Load(x->Scales));
            int udot = v512 ? IntDot512(x->Ql, x->Qh, y->Qs, sc) : IntDot256(x->Ql, x->Qh, y->Qs, sc);
            int isum = udot - 32 * KQuantSimd.GroupSum(sc, y->BSums);
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
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
    /// blocks: per super-block each row's exact integer sum isum = Σ_g sc_g Σ u·q8 − 32 Σ_g sc_g·bsum_g (the same integer
    /// as <see cref="DotWide"/>, however it is summed), then per row acc += (d_w·d_a)·isum in block order, the rows in
    /// the 4 lanes of one vector (lane-wise the same float steps). The activation block is loaded once for the 4 rows and
    /// the 4 rows' 16-lane integer sums are reduced together (<see cref="KQuantSimd.SumRows4"/>). Quants are unpacked 64
    /// bytes at a time: the two 32-byte low-bit runs of a half in one register, the high 2 bits moved into bits 4..5 by
    /// one GFNI affine transform, merged with one ternary op.
    /// </summary>
    // NoInlining: compiled as its own root, so its four BlockSums calls are inlined even when dynamic PGO has inlined
    // the row loop into a large caller (the pool's RunRange) whose inlining budget is spent; seen as a separate BlockSums
    // frame taking 12% of 1B Q4_K decode.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Rows4(byte* w, long rowBytes, byte* act, int nb, float* y)
    {
        var y8 = (BlockQ8_K*)act;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        byte* next = w + 4 * rowBytes;   // the next 4 rows (contiguous): each block step prefetches 4 blocks' worth of them
        bool l1 = 4 * rowBytes <= 8192;  // two tiles fit L1 together; longer ones go to L2
        Vector128<float> acc = Vector128<float>.Zero;
        for (int i = 0; i < nb; i++, y8++)
        {
            byte* pp = next + (long)i * (4 * BlockQ6_K.Size);
            if (l1) for (int p = 0; p < 4 * BlockQ6_K.Size; p += 64) Sse.Prefetch0(pp + p);
            else for (int p = 0; p < 4 * BlockQ6_K.Size; p += 64) Sse.Prefetch1(pp + p);
            sbyte* q8 = y8->Qs;
            Vector512<sbyte> a0 = Vector512.Load(q8), a1 = Vector512.Load(q8 + 64), a2 = Vector512.Load(q8 + 128), a3 = Vector512.Load(q8 + 192);
            Vector256<short> bs = Vector256.Load(y8->BSums);
            long o = (long)i * BlockQ6_K.Size;
            var x0 = (BlockQ6_K*)(w0 + o);
            var x1 = (BlockQ6_K*)(w1 + o);
            var x2 = (BlockQ6_K*)(w2 + o);
            var x3 = (BlockQ6_K*)(w3 + o);
            Vector512<int> h0 = BlockSums(x0, a0, a1, a2, a3, bs), h1 = BlockSums(x1, a0, a1, a2, a3, bs);
            Vector512<int> h2 = BlockSums(x2, a0, a1, a2, a3, bs), h3 = BlockSums(x3, a0, a1, a2, a3, bs);
            Vector128<int> isum = KQuantSimd.SumRows4(h0, h1, h2, h3);   // exact: lane k = isum of row k
            float yd = y8->D;
            Vector128<float> d = Vector128.Create(
                KQuantMath.Fp16ToFp32(x0->D) * yd, KQuantMath.Fp16ToFp32(x1->D) * yd,
                KQuantMath.Fp16ToFp32(x2->D) * yd, KQuantMath.Fp16ToFp32(x3->D) * yd);
            acc += d * Vector128.ConvertToSingle(isum);
        }
        acc.Store(y);
    }

    /// <summary>16 int32 lanes that sum to one row's isum for one super-block (see <see cref="Rows4"/>): per half (128
    /// quants, groups 8h..8h + 7) the 64 low-bit bytes in one register [elements r = 0 | r = 1 low nibbles, r = 2 | r = 3
    /// high nibbles] and the 32 high-bit bytes in both 256-bit halves, bits (2r, 2r + 1) moved into bits 4..5 by GFNI.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> BlockSums(BlockQ6_K* x, Vector512<sbyte> a0, Vector512<sbyte> a1, Vector512<sbyte> a2, Vector512<sbyte> a3, Vector256<short> bs)
    {
        Vector256<short> sc = Unpack(x, out Vector512<byte> u0, out Vector512<byte> u1, out Vector512<byte> u2, out Vector512<byte> u3,
            out Vector512<short> s0, out Vector512<short> s1, out Vector512<short> s2, out Vector512<short> s3);
        Vector512<int> v = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u0, a0), s0)
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u1, a1), s1)
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u2, a2), s2)
            + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u3, a3), s3);
        return v - (Avx2.MultiplyAddAdjacent(sc, bs) << 5).ToVector512();
    }

    /// <summary>One super-block unpacked for 512-bit products (AVX-512 BW, GFNI): u0..u3 the unsigned 6-bit quants of
    /// elements 0..63, 64..127, 128..191, 192..255 (activation order), s0..s3 each chunk's group scale for its 32 int16
    /// pair sums; returns the 16 scales sign-extended (for the −32 offset through the bsums). Per half (128 quants) the 64
    /// low-bit bytes in one register [elements r = 0 | r = 1 low nibbles, r = 2 | r = 3 high nibbles] and the 32 high-bit
    /// bytes in both 256-bit halves, bits (2r, 2r + 1) moved into bits 4..5 by GFNI, merged by one ternary op.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> Unpack(BlockQ6_K* x, out Vector512<byte> u0, out Vector512<byte> u1, out Vector512<byte> u2, out Vector512<byte> u3,
        out Vector512<short> s0, out Vector512<short> s1, out Vector512<short> s2, out Vector512<short> s3)
    {
        Vector256<short> sc = Avx2.ConvertToVector256Int16(Vector128.Load(x->Scales));
        Vector512<short> s = sc.ToVector512Unsafe();
        Vector512<byte> m4 = Vector512.Create((byte)0x0F);
        Vector512<byte> m12 = Vector512.Create(R0, R0, R0, R0, R1, R1, R1, R1).AsByte(), m34 = Vector512.Create(R2, R2, R2, R2, R3, R3, R3, R3).AsByte();
        Vector512<short> idx = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        byte* ql = x->Ql, qh = x->Qh;
        Vector512<byte> lo0 = Vector512.Load(ql), lo1 = Vector512.Load(ql + 64);
        Vector256<byte> hq0 = Vector256.Load(qh), hq1 = Vector256.Load(qh + 32);
        Vector512<byte> hb0 = Avx512F.InsertVector256(hq0.ToVector512Unsafe(), hq0, 1), hb1 = Avx512F.InsertVector256(hq1.ToVector512Unsafe(), hq1, 1);
        u0 = Avx512F.TernaryLogic(lo0, Gfni.V512.GaloisFieldAffineTransform(hb0, m12, 0), m4, 0xEC);   // (lo & 0x0F) | high bits
        u1 = Avx512F.TernaryLogic(Avx512BW.ShiftRightLogical(lo0.AsUInt16(), 4).AsByte(), Gfni.V512.GaloisFieldAffineTransform(hb0, m34, 0), m4, 0xEC);
        u2 = Avx512F.TernaryLogic(lo1, Gfni.V512.GaloisFieldAffineTransform(hb1, m12, 0), m4, 0xEC);
        u3 = Avx512F.TernaryLogic(Avx512BW.ShiftRightLogical(lo1.AsUInt16(), 4).AsByte(), Gfni.V512.GaloisFieldAffineTransform(hb1, m34, 0), m4, 0xEC);
        s0 = Avx512BW.PermuteVar32x16(s, idx);
        s1 = Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)4));
        s2 = Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)8));
        s3 = Avx512BW.PermuteVar32x16(s, idx + Vector512.Create((short)12));
        return sc;
    }

    // GF(2) affine matrices (output bit i's row in byte 7 − i): bits 4, 5 from bits 2r, 2r + 1, the rest zero
    private const ulong R0 = 0x01020000UL, R1 = 0x04080000UL, R2 = 0x10200000UL, R3 = 0x40800000UL;

    // Σ_g sc_g Σ u·q8 of one super-block with u the unsigned 6-bit quants (0..63), built in registers.
    // ql: [128], qh: [64], q8: [256], sc: [16].
    private static int IntDot512(byte* ql, byte* qh, sbyte* q8, Vector256<short> sc)
    {
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m3 = Vector256.Create((byte)3);
        Vector512<short> s = sc.ToVector512Unsafe();
        // vpermw index: pair-sums 0..7 take scale 0, 8..15 scale 1, ... (plus the group offset)
        Vector512<short> baseIdx = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> a = Vector256.Load(ql + 64 * h), b = Vector256.Load(ql + 64 * h + 32), hb = Vector256.Load(qh + 32 * h);
            Vector256<byte> q1 = (a & m4) | Vector256.ShiftLeft(hb & m3, 4);
            Vector256<byte> q2 = (b & m4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 2) & m3, 4);
            Vector256<byte> q3 = Vector256.ShiftRightLogical(a, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 4) & m3, 4);
            Vector256<byte> q4 = Vector256.ShiftRightLogical(b, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 6), 4);
            Vector512<short> p12 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(q1, q2), Vector512.Load(q8 + 128 * h));
            Vector512<short> p34 = Avx512BW.MultiplyAddAdjacent(KQuantSimd.Join(q3, q4), Vector512.Load(q8 + 128 * h + 64));
            Vector512<short> i12 = baseIdx + Vector512.Create((short)(8 * h));
            acc0 += Avx512BW.MultiplyAddAdjacent(p12, Avx512BW.PermuteVar32x16(s, i12));
            acc1 += Avx512BW.MultiplyAddAdjacent(p34, Avx512BW.PermuteVar32x16(s, i12 + Vector512.Create((short)4)));
        }
        return KQuantSimd.Sum(acc0 + acc1);
    }

    private static int IntDot256(byte* ql, byte* qh, sbyte* q8, Vector256<short> scales)
    {
        short* sc = stackalloc short[16];
        scales.Store(sc);
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m3 = Vector256.Create((byte)3);
        Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
        for (int h = 0; h < 2; h++, sc += 8, q8 += 128)
        {
            Vector256<byte> a = Vector256.Load(ql + 64 * h), b = Vector256.Load(ql + 64 * h + 32), hb = Vector256.Load(qh + 32 * h);
            Vector256<byte> q1 = (a & m4) | Vector256.ShiftLeft(hb & m3, 4);
            Vector256<byte> q2 = (b & m4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 2) & m3, 4);
            Vector256<byte> q3 = Vector256.ShiftRightLogical(a, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 4) & m3, 4);
            Vector256<byte> q4 = Vector256.ShiftRightLogical(b, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hb, 6), 4);
            acc0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q1, Vector256.Load(q8)), Vector256.Create(Vector128.Create(sc[0]), Vector128.Create(sc[1])));
            acc1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q2, Vector256.Load(q8 + 32)), Vector256.Create(Vector128.Create(sc[2]), Vector128.Create(sc[3])));
            acc0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q3, Vector256.Load(q8 + 64)), Vector256.Create(Vector128.Create(sc[4]), Vector128.Create(sc[5])));
            acc1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q4, Vector256.Load(q8 + 96)), Vector256.Create(Vector128.Create(sc[6]), Vector128.Create(sc[7])));
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <inheritdoc/>
    private protected override float ReferenceBlocks(byte* wb, byte* ab, int nb)
    {
        float acc = 0;
        var x = (BlockQ6_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            int isum = 0;
            for (int g = 0; g < 16; g++)
            {
                int dot = 0;
                for (int e = 16 * g; e < 16 * g + 16; e++)
                {
                    // element e: half e/128, position l = e%32 within quarter r = (e%128)/32
                    int half = e / 128, r = (e % 128) / 32, l = e % 32;
                    byte lb = x->Ql[64 * half + l + 32 * (r & 1)];
                    int lo = (r < 2) ? lb & 0xF : lb >> 4;
                    int hi = (x->Qh[32 * half + l] >> (2 * r)) & 3;
                    dot += ((lo | (hi << 4)) - 32) * y->Qs[e];
                }
                isum += x->Scales[g] * dot;
            }
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
        }
        return acc;
    }
}
