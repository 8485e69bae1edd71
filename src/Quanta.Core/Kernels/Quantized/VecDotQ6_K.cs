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
