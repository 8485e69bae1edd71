using System.Runtime.Intrinsics;
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
