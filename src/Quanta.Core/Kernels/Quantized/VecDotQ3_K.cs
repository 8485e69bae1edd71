using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Q3_K weight row · Q8_K activation row ("q3_k*q8_k"), ggml's ggml_vec_dot_q3_K_q8_K. The SIMD paths form the
/// unsigned quant u = q2 + 4·hbit (0..7, value u - 4), multiply with vpmaddubsw + vpmaddwd under the signed
/// 6-bit scales and remove the offset as 4·Σ_g sc_g·bsum_g, exact in integers; the float step acc += d·isum is
/// shared, so <see cref="Dot"/> equals <see cref="DotReference"/> bit for bit.
/// </summary>
public sealed unsafe class VecDotQ3_K : KQuantVecDotKernel
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly VecDotQ3_K Instance = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ3_K() : base(WeightFormat.Q3_K, "q3_k*q8_k", GgmlType.Q3_K, BlockQ3_K.Size) { }

    /// <inheritdoc/>
    private protected override float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path)
    {
        if (path == SimdPath.V512 || path == SimdPath.V256) return DotWide(wb, ab, nb, path == SimdPath.V512);
        byte* u = stackalloc byte[256];      // unsigned 3-bit quants (value + 4) of one super-block
        short* sc = stackalloc short[16];    // signed scale per 16-group
        sbyte* sc8 = stackalloc sbyte[16];
        Vector128<byte> three = Vector128.Create((byte)3), one = Vector128.Create((byte)1);
        float acc = 0;
        var x = (BlockQ3_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            byte* q = x->Qs;
            Vector128<byte> h0 = Vector128.Load(x->HMask), h1 = Vector128.Load(x->HMask + 16);
            byte* uo = u;
            int bit = 0;
            for (int half = 0; half < 2; half++, q += 32)
            {
                Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                for (int shift = 0; shift < 8; shift += 2, bit++, uo += 32)
                {
                    ((Vector128.ShiftRightLogical(q0, shift) & three) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h0, bit) & one, 2)).Store(uo);
                    ((Vector128.ShiftRightLogical(q1, shift) & three) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h1, bit) & one, 2)).Store(uo + 16);
                }
            }
            KQuantMath.UnpackQ3Scales(x->Scales, sc8);
            for (int g = 0; g < 16; g++) sc[g] = sc8[g];
            int isum = Q8KActivation.ScaledDot256(u, y->Qs, sc) - 4 * Q8KActivation.GroupSum(sc, y);
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
        }
        return acc;
    }

    // AVX2 / AVX-512: the 16 signed scales unpacked on words (KQuantSimd.ScalesQ3), u = q2 | 4·hbit built in registers,
    // the -4 offset removed with one vpmaddwd against the bsums; same float step as the reference.
    private static float DotWide(byte* wb, byte* ab, int nb, bool v512)
    {
        float acc = 0;
        var x = (BlockQ3_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector256<short> sc = KQuantSimd.ScalesQ3(x->Scales);
            int udot = v512 ? IntDot512(x->Qs, x->HMask, y->Qs, sc) : IntDot256(x->Qs, x->HMask, y->Qs, sc);
            int isum = udot - 4 * KQuantSimd.GroupSum(sc, y->BSums);
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
        }
        return acc;
    }

    /// <summary>Unsigned 3-bit quants (0..7) of elements 128h + 32j + l, l = 0..31: bits 2j..2j+1 of q plus 4 times bit
    /// 4h + j of hm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Quants(Vector256<byte> q, Vector256<byte> hm, int j, int bit)
    {
        Vector256<byte> q2 = Vector256.ShiftRightLogical(q.AsUInt16(), 2 * j).AsByte() & Vector256.Create((byte)3);
        Vector256<byte> h = Vector256.ShiftRightLogical(hm.AsUInt16(), bit).AsByte() & Vector256.Create((byte)1);
        return q2 | Vector256.ShiftLeft(h.AsUInt16(), 2).AsByte();
    }

    private static int IntDot512(byte* qs, byte* hmask, sbyte* q8, Vector256<short> sc)
    {
        Vector256<byte> hm = Vector256.Load(hmask);
        Vector512<short> s = sc.ToVector512Unsafe();
        Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> q = Vector256.Load(qs + 32 * h);
            acc0 += KQuantSimd.Scaled512(KQuantSimd.Join(Quants(q, hm, 0, 4 * h), Quants(q, hm, 1, 4 * h + 1)), q8 + 128 * h, s, 8 * h);
            acc1 += KQuantSimd.Scaled512(KQuantSimd.Join(Quants(q, hm, 2, 4 * h + 2), Quants(q, hm, 3, 4 * h + 3)), q8 + 128 * h + 64, s, 8 * h + 4);
        }
        return KQuantSimd.Sum(acc0 + acc1);
    }

    private static int IntDot256(byte* qs, byte* hmask, sbyte* q8, Vector256<short> sc)
    {
        Vector256<byte> hm = Vector256.Load(hmask);
        Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> q = Vector256.Load(qs + 32 * h);
            sbyte* y = q8 + 128 * h;
            acc0 += KQuantSimd.Scaled256(Quants(q, hm, 0, 4 * h), y, sc, 8 * h);
            acc1 += KQuantSimd.Scaled256(Quants(q, hm, 1, 4 * h + 1), y + 32, sc, 8 * h + 2);
            acc0 += KQuantSimd.Scaled256(Quants(q, hm, 2, 4 * h + 2), y + 64, sc, 8 * h + 4);
            acc1 += KQuantSimd.Scaled256(Quants(q, hm, 3, 4 * h + 3), y + 96, sc, 8 * h + 6);
        }
        return KQuantSimd.Sum(acc0 + acc1);
    }

    /// <inheritdoc/>
    private protected override float ReferenceBlocks(byte* wb, byte* ab, int nb)
    {
        sbyte* sc8 = stackalloc sbyte[16];
        float acc = 0;
        var x = (BlockQ3_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            KQuantMath.UnpackQ3Scales(x->Scales, sc8);
            int isum = 0;
            for (int g = 0; g < 16; g++)
            {
                int dot = 0;
                for (int e = 16 * g; e < 16 * g + 16; e++)
                {
                    // element e: half e/128, 2-bit field (e%128)/32, byte e%32
                    int half = e / 128, j = (e % 128) / 32, l = e % 32;
                    int q2 = (x->Qs[32 * half + l] >> (2 * j)) & 3;
                    int h = (x->HMask[l] >> (4 * half + j)) & 1;
                    dot += (q2 - (h != 0 ? 0 : 4)) * y->Qs[e];
                }
                isum += sc8[g] * dot;
            }
            float d = KQuantMath.Fp16ToFp32(x->D) * y->D;
            acc += d * isum;
        }
        return acc;
    }
}
