using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
        if (path == SimdPath.V512) return Dot512(wb, ab, nb);
        if (path == SimdPath.V256) return Dot256(wb, ab, nb);
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

    /// <summary>Bit 4 of the 32 quants of sub-block <paramref name="j"/>: bit j of each qh byte, moved to 0x10.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HighBit(Vector256<byte> qh, int j) =>
        Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh.AsUInt16(), j) & Vector256.Create((ushort)0x0101), 4).AsByte();

    // 512-bit path: scales/mins unpacked on words, 5-bit quants built in registers, one vpermw per 64-quant chunk.
    private static float Dot512(byte* wb, byte* ab, int nb)
    {
        Vector512<short> idx0 = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector512<short> two = Vector512.Create((short)2);
        float acc = 0;
        var x = (BlockQ5_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector128<byte> sm = KQuantSimd.ScaleMinK4(x->Scales);
            Vector512<short> s = Vector128.WidenLower(sm).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            byte* q = x->Qs;
            sbyte* q8 = y->Qs;
            Vector256<byte> qh = Vector256.Load(x->Qh);
            Vector512<short> idx = idx0;
            Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
            for (int k = 0; k < 4; k += 2)
            {
                Vector256<byte> a0 = Vector256.Load(q + 32 * k), a1 = Vector256.Load(q + 32 * k + 32);
                Vector512<byte> u0 = KQuantSimd.Join(KQuantSimd.Lo(a0) | HighBit(qh, 2 * k), KQuantSimd.Hi(a0) | HighBit(qh, 2 * k + 1));
                Vector512<byte> u1 = KQuantSimd.Join(KQuantSimd.Lo(a1) | HighBit(qh, 2 * k + 2), KQuantSimd.Hi(a1) | HighBit(qh, 2 * k + 3));
                Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(u0, Vector512.Load(q8 + 64 * k));
                Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(u1, Vector512.Load(q8 + 64 * k + 64));
                acc0 += Avx512BW.MultiplyAddAdjacent(p0, Avx512BW.PermuteVar32x16(s, idx));
                acc1 += Avx512BW.MultiplyAddAdjacent(p1, Avx512BW.PermuteVar32x16(s, idx + two));
                idx += two + two;
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

    // 256-bit path: same scheme, one broadcast scale per 32-quant sub-block.
    private static float Dot256(byte* wb, byte* ab, int nb)
    {
        float acc = 0;
        var x = (BlockQ5_K*)wb;
        var y = (BlockQ8_K*)ab;
        for (int i = 0; i < nb; i++, x++, y++)
        {
            Vector128<byte> sm = KQuantSimd.ScaleMinK4(x->Scales);
            Vector128<short> s = Vector128.WidenLower(sm).AsInt16();
            byte* q = x->Qs;
            sbyte* q8 = y->Qs;
            Vector256<byte> qh = Vector256.Load(x->Qh);
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            for (int k = 0; k < 4; k++)
            {
                Vector256<byte> a = Vector256.Load(q + 32 * k);
                Vector256<short> plo = Avx2.MultiplyAddAdjacent(KQuantSimd.Lo(a) | HighBit(qh, 2 * k), Vector256.Load(q8 + 64 * k));
                Vector256<short> phi = Avx2.MultiplyAddAdjacent(KQuantSimd.Hi(a) | HighBit(qh, 2 * k + 1), Vector256.Load(q8 + 64 * k + 32));
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
