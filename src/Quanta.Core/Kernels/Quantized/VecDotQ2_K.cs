using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Q2_K weight row · Q8_K activation row ("q2_k*q8_k"), ggml's ggml_vec_dot_q2_K_q8_K. Integer sums under the
/// 4-bit scales are exact (vpmaddubsw + vpmaddwd), the 4-bit mins use the activation's bsums, and the float
/// steps acc += d·isum; acc -= dmin·summ are shared: <see cref="Dot"/> equals <see cref="DotReference"/> bit for bit.
/// </summary>
public sealed unsafe class VecDotQ2_K : KQuantVecDotKernel
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly VecDotQ2_K Instance = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ2_K() : base(WeightFormat.Q2_K, "q2_k*q8_k", GgmlType.Q2_K, BlockQ2_K.Size) { }

    /// <inheritdoc/>
    private protected override float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path)
    {
        if (path == SimdPath.V512 || path == SimdPath.V256) return DotWide(wb, ab, nb, path == SimdPath.V512);
        byte* u = stackalloc byte[256];    // unpacked 2-bit quants of one super-block
        short* sc = stackalloc short[16];  // scale per 16-group
        short* mn = stackalloc short[16];  // min per 16-group
        Vector128<byte> three = Vector128.Create((byte)3);
        float acc = 0;
        var x = (BlockQ2_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            byte* q = x->Qs;
            byte* uo = u;
            for (int half = 0; half < 2; half++, q += 32)
            {
                Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                for (int shift = 0; shift < 8; shift += 2, uo += 32)
                {
                    (Vector128.ShiftRightLogical(q0, shift) & three).Store(uo);
                    (Vector128.ShiftRightLogical(q1, shift) & three).Store(uo + 16);
                }
            }
            for (int g = 0; g < 16; g++)
            {
                sc[g] = (short)(x->Scales[g] & 0xF);
                mn[g] = (short)(x->Scales[g] >> 4);
            }
            int isum = Q8KActivation.ScaledDot256(u, y->Qs, sc);
            int summ = Q8KActivation.GroupSum(mn, y);
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }

    // AVX2 / AVX-512: scales and mins split on one register (vpmovzxbw), the 2-bit quants shifted out of the 32-byte
    // halves in registers, the mins through one vpmaddwd against the bsums; same float steps as the reference.
    private static float DotWide(byte* wb, byte* ab, int nb, bool v512)
    {
        float acc = 0;
        var x = (BlockQ2_K*)wb;
        var y = (BlockQ8_K*)ab;
        Vector128<byte> m4 = Vector128.Create((byte)0x0F);
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector128<byte> packed = Vector128.Load(x->Scales);
            Vector256<short> sc = Avx2.ConvertToVector256Int16(packed & m4).AsInt16();
            Vector256<short> mn = Avx2.ConvertToVector256Int16(Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & m4).AsInt16();
            int isum = v512 ? IntDot512(x->Qs, y->Qs, sc) : IntDot256(x->Qs, y->Qs, sc);
            int summ = KQuantSimd.GroupSum(mn, y->BSums);
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }

    // Σ_g sc_g Σ q2·q8 of one super-block; quants of element 128h + 32j + l are bits 2j..2j+1 of qs[32h + l].
    private static int IntDot512(byte* qs, sbyte* q8, Vector256<short> sc)
    {
        Vector256<byte> m3 = Vector256.Create((byte)3);
        Vector512<short> s = sc.ToVector512Unsafe();
        Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> q = Vector256.Load(qs + 32 * h);
            Vector256<byte> u0 = q & m3, u1 = Vector256.ShiftRightLogical(q.AsUInt16(), 2).AsByte() & m3;
            Vector256<byte> u2 = Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & m3, u3 = Vector256.ShiftRightLogical(q.AsUInt16(), 6).AsByte() & m3;
            acc0 += KQuantSimd.Scaled512(KQuantSimd.Join(u0, u1), q8 + 128 * h, s, 8 * h);
            acc1 += KQuantSimd.Scaled512(KQuantSimd.Join(u2, u3), q8 + 128 * h + 64, s, 8 * h + 4);
        }
        return KQuantSimd.Sum(acc0 + acc1);
    }

    private static int IntDot256(byte* qs, sbyte* q8, Vector256<short> sc)
    {
        Vector256<byte> m3 = Vector256.Create((byte)3);
        Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> q = Vector256.Load(qs + 32 * h);
            sbyte* y = q8 + 128 * h;
            acc0 += KQuantSimd.Scaled256(q & m3, y, sc, 8 * h);
            acc1 += KQuantSimd.Scaled256(Vector256.ShiftRightLogical(q.AsUInt16(), 2).AsByte() & m3, y + 32, sc, 8 * h + 2);
            acc0 += KQuantSimd.Scaled256(Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & m3, y + 64, sc, 8 * h + 4);
            acc1 += KQuantSimd.Scaled256(Vector256.ShiftRightLogical(q.AsUInt16(), 6).AsByte() & m3, y + 96, sc, 8 * h + 6);
        }
        return KQuantSimd.Sum(acc0 + acc1);
    }

    /// <inheritdoc/>
    private protected override float ReferenceBlocks(byte* wb, byte* ab, int nb)
    {
        float acc = 0;
        var x = (BlockQ2_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            int isum = 0, summ = 0;
            for (int g = 0; g < 16; g++)
            {
                int dot = 0;
                for (int e = 16 * g; e < 16 * g + 16; e++)
                {
                    int half = e / 128, j = (e % 128) / 32, l = e % 32;
                    dot += ((x->Qs[32 * half + l] >> (2 * j)) & 3) * y->Qs[e];
                }
                isum += (x->Scales[g] & 0xF) * dot;
                summ += (x->Scales[g] >> 4) * y->BSums[g];
            }
            float d = y->D * KQuantMath.Fp16ToFp32(x->D);
            float dmin = y->D * KQuantMath.Fp16ToFp32(x->DMin);
            acc += d * isum;
            acc -= dmin * summ;
        }
        return acc;
    }
}
