using System.Runtime.Intrinsics;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Q5_K weight row · Q8_K activation row ("q5_k*q8_k"), ggml's ggml_vec_dot_q5_K_q8_K. Integer sums are exact
/// (5-bit quants through vpmaddubsw + vpmaddwd), mins come from the activation's bsums, and the float steps
/// acc += d·isum; acc -= dmin·summ are the same on every path: <see cref="Dot"/> equals <see cref="DotReference"/>
/// bit for bit.
/// </summary>
public sealed unsafe class VecDotQ5_K : KQuantVecDotKernel
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly VecDotQ5_K Instance = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ5_K() : base(WeightFormat.Q5_K, "q5_k*q8_k", GgmlType.Q5_K, BlockQ5_K.Size) { }

    /// <inheritdoc/>
    private protected override float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path)
    {
        byte* u = stackalloc byte[256];    // unpacked 5-bit quants of one super-block
        short* sc = stackalloc short[16];  // scale per 16-group
        short* mn = stackalloc short[16];  // min per 16-group
        Vector128<byte> mask = Vector128.Create((byte)0x0F), one = Vector128.Create((byte)1);
        float acc = 0;
        var x = (BlockQ5_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            byte* q = x->Qs;
            Vector128<byte> h0 = Vector128.Load(x->Qh), h1 = Vector128.Load(x->Qh + 16);
            for (int k = 0; k < 4; k++, q += 32)
            {
                Vector128<byte> a = Vector128.Load(q), b = Vector128.Load(q + 16);
                ((a & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h0, 2 * k) & one, 4)).Store(u + 64 * k);
                ((b & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h1, 2 * k) & one, 4)).Store(u + 64 * k + 16);
                (Vector128.ShiftRightLogical(a, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h0, 2 * k + 1) & one, 4)).Store(u + 64 * k + 32);
                (Vector128.ShiftRightLogical(b, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(h1, 2 * k + 1) & one, 4)).Store(u + 64 * k + 48);
            }
            for (int j = 0; j < 8; j++)
            {
                KQuantMath.GetScaleMinK4(j, x->Scales, out byte s, out byte m);
                sc[2 * j] = sc[2 * j + 1] = s;
                mn[2 * j] = mn[2 * j + 1] = m;
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
        var x = (BlockQ5_K*)wb;
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
                for (int l = 0; l < 32; l++)
                {
                    int v = ((q[l] >> shift) & 0xF) | (((x->Qh[l] >> j) & 1) << 4);
                    dot += v * y->Qs[32 * j + l];
                }
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
