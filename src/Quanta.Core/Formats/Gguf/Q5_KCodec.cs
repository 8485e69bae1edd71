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
        byte* L = stackalloc byte[256];
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        byte* ls = stackalloc byte[8];
        byte* lm = stackalloc byte[8];
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ5_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float maxScale = 0, maxMin = 0;
                for (int j = 0; j < 8; ++j)
                {
                    float sumX2 = 0;
                    for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
                    float avX = MathF.Sqrt(sumX2 / 32);
                    for (int l = 0; l < 32; ++l) weights[l] = avX + MathF.Abs(x[32 * j + l]);
                    scales[j] = KQuantMath.MakeQkx2Quants(32, 31, x + 32 * j, weights, L + 32 * j, out mins[j], laux, -0.5f, 0.1f, 15, false);
                    if (scales[j] > maxScale) maxScale = scales[j];
                    if (mins[j] > maxMin) maxMin = mins[j];
                }
                float invScale = maxScale > 0 ? 63f / maxScale : 0f;
                float invMin = maxMin > 0 ? 63f / maxMin : 0f;
                for (int j = 0; j < 8; ++j)
                {
                    ls[j] = Math.Min((byte)63, (byte)KQuantMath.NearestInt(invScale * scales[j]));
                    lm[j] = Math.Min((byte)63, (byte)KQuantMath.NearestInt(invMin * mins[j]));
                }
                BlockQ5_K* b = y + i;
                KQuantMath.PackScaleMinK4(ls, lm, b->Scales);
                b->D = KQuantMath.Fp32ToFp16(maxScale / 63f);
                b->DMin = KQuantMath.Fp32ToFp16(maxMin / 63f);
                float dAll = KQuantMath.Fp16ToFp32(b->D), mAll = KQuantMath.Fp16ToFp32(b->DMin);
                for (int j = 0; j < 8; ++j)
                {
                    KQuantMath.GetScaleMinK4(j, b->Scales, out byte sc, out byte m);
                    float d = dAll * sc;
                    if (d == 0) continue;
                    float dm = mAll * m;
                    for (int ii = 0; ii < 32; ++ii)
                    {
                        int l = KQuantMath.NearestInt((x[32 * j + ii] + dm) / d);
                        L[32 * j + ii] = (byte)Math.Max(0, Math.Min(31, l));
                    }
                }
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
