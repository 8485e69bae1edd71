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
            if (path == SimdPath.V512) isum = IntDot512(x->Qs, y->Qs, sc);
            else if (path == SimdPath.V256) isum = IntDot256(x->Qs, y->Qs, sc);
            else
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

    // Σ_j sc_j Σ q4·q8 of one super-block with the nibbles unpacked in registers (no staging buffer).
    // qs: [128] packed quants, q8: [256], sc: [16] scale per 16-group (pairs equal).
    private static int IntDot512(byte* qs, sbyte* q8, short* sc)
    {
        Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (int k = 0; k < 4; k += 2)
        {
            Vector256<byte> a = Vector256.Load(qs + 32 * k), b = Vector256.Load(qs + 32 * k + 32);
            // 64 quants in element order: low nibbles are sub-block 2k, high nibbles sub-block 2k+1
            Vector512<byte> ua = Vector512.Create(a & mask, Vector256.ShiftRightLogical(a, 4));
            Vector512<byte> ub = Vector512.Create(b & mask, Vector256.ShiftRightLogical(b, 4));
            Vector512<short> pa = Avx512BW.MultiplyAddAdjacent(ua, Vector512.Load(q8 + 64 * k));
            Vector512<short> pb = Avx512BW.MultiplyAddAdjacent(ub, Vector512.Load(q8 + 64 * k + 64));
            Vector512<short> sa = Vector512.Create(Vector256.Create(sc[4 * k]), Vector256.Create(sc[4 * k + 2]));
            Vector512<short> sb = Vector512.Create(Vector256.Create(sc[4 * k + 4]), Vector256.Create(sc[4 * k + 6]));
            acc0 += Avx512BW.MultiplyAddAdjacent(pa, sa);
            acc1 += Avx512BW.MultiplyAddAdjacent(pb, sb);
        }
        return Vector512.Sum(acc0 + acc1);
    }

    private static int IntDot256(byte* qs, sbyte* q8, short* sc)
    {
        Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (int k = 0; k < 4; k++)
        {
            Vector256<byte> a = Vector256.Load(qs + 32 * k);
            Vector256<short> plo = Avx2.MultiplyAddAdjacent(a & mask, Vector256.Load(q8 + 64 * k));
            Vector256<short> phi = Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(a, 4), Vector256.Load(q8 + 64 * k + 32));
            acc0 += Avx2.MultiplyAddAdjacent(plo, Vector256.Create(sc[4 * k]));
            acc1 += Avx2.MultiplyAddAdjacent(phi, Vector256.Create(sc[4 * k + 2]));
        }
        return Vector256.Sum(acc0 + acc1);
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
