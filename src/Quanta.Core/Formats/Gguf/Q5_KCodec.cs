using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q5_K row codec: <see cref="Quantize"/> is ggml's quantize_row_q5_K_ref byte for byte; both dequantizers equal
/// ggml's dequantize_row_q5_K bit for bit.
/// </summary>
public sealed unsafe class Q5_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q5_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q5_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q5_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ5_K.Size, true);
        byte* L = stackalloc byte[256];   // [256] quants of one super-block
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ5_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                BlockQ5_K* b = y + i;
                ScaleMinSuperBlock.Quantize(x, 31, -0.5f, 15, (byte*)b, L);
                byte* qh = b->Qh;
                byte* ql = b->Qs;
                for (int j = 0; j < 32; ++j) qh[j] = 0;
                byte m1 = 1, m2 = 2;
                for (int n = 0; n < 256; n += 64, ql += 32)
                {
                    for (int j = 0; j < 32; ++j)
                    {
                        int l1 = L[n + j];
                        if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                        int l2 = L[n + j + 32];
                        if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                        ql[j] = (byte)(l1 | (l2 << 4));
                    }
                    m1 <<= 2; m2 <<= 2;
                }
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ5_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ5_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                byte* ql = x[i].Qs;
                byte* qh = x[i].Qh;
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                int u1 = 1, u2 = 2;
                for (int s = 0; s < 8; s += 2, ql += 32, u1 <<= 2, u2 <<= 2)
                {
                    KQuantMath.GetScaleMinK4(s, x[i].Scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantMath.GetScaleMinK4(s + 1, x[i].Scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                    for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q5_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ5_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ5_K*)xb;
            float* y = yf;
            Vector128<byte> mask = Vector128.Create((byte)0x0F), one = Vector128.Create((byte)1);
            for (int i = 0; i < nb; i++)
            {
                byte* ql = x[i].Qs;
                Vector128<byte> h0 = Vector128.Load(x[i].Qh), h1 = Vector128.Load(x[i].Qh + 16);
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                for (int s = 0; s < 8; s += 2, ql += 32, y += 64)
                {
                    KQuantMath.GetScaleMinK4(s, x[i].Scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantMath.GetScaleMinK4(s + 1, x[i].Scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    Vector128<byte> q0 = Vector128.Load(ql), q1 = Vector128.Load(ql + 16);
                    // bit s of qh is the fifth bit of the low-nibble quant, bit s+1 of the high-nibble one
                    Vector128<byte> b00 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(h0, s) & one, 4);
                    Vector128<byte> b01 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(h1, s) & one, 4);
                    Vector128<byte> b10 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(h0, s + 1) & one, 4);
                    Vector128<byte> b11 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(h1, s + 1) & one, 4);
                    KQuantMath.StoreAffine16((q0 & mask) | b00, d1, m1, y);
                    KQuantMath.StoreAffine16((q1 & mask) | b01, d1, m1, y + 16);
                    KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q0, 4) | b10, d2, m2, y + 32);
                    KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q1, 4) | b11, d2, m2, y + 48);
                }
            }
        }
    }
}
