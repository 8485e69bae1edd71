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
