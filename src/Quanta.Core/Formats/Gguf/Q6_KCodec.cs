using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q6_K row codec: <see cref="Quantize"/> is ggml's quantize_row_q6_K_ref byte for byte; both dequantizers equal
/// ggml's dequantize_row_q6_K bit for bit.
/// </summary>
public sealed unsafe class Q6_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q6_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q6_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q6_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ6_K.Size, true);
        sbyte* L = stackalloc sbyte[256];
        float* scales = stackalloc float[16];
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ6_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float maxScale = 0, maxAbsScale = 0;
                for (int ib = 0; ib < 16; ++ib)
                {
                    float scale = KQuantMath.MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
                    scales[ib] = scale;
                    float abs = MathF.Abs(scale);
                    if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scale; }
                }
                BlockQ6_K* b = y + i;
                if (maxAbsScale < KQuantMath.GroupMaxEps)
                {
                    new Span<byte>(b, BlockQ6_K.Size).Clear();
                    b->D = KQuantMath.Fp32ToFp16(0f);
                    continue;
                }
                float iscale = -128f / maxScale;
                b->D = KQuantMath.Fp32ToFp16(1 / iscale);
                for (int ib = 0; ib < 16; ++ib)
                    b->Scales[ib] = (sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[ib]));
                float dAll = KQuantMath.Fp16ToFp32(b->D);
                for (int j = 0; j < 16; ++j)
                {
                    float d = dAll * b->Scales[j];
                    if (d == 0) continue;
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = KQuantMath.NearestInt(x[16 * j + ii] / d);
                        L[16 * j + ii] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
                    }
                }
                byte* ql = b->Ql;
                byte* qh = b->Qh;
                for (int j = 0; j < 256; j += 128, ql += 64, qh += 32)
                {
                    for (int l = 0; l < 32; ++l)
                    {
                        int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                        ql[l] = (byte)(q1 | (q3 << 4));
                        ql[l + 32] = (byte)(q2 | (q4 << 4));
                        qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ6_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ6_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                float d = KQuantMath.Fp16ToFp32(x[i].D);
                byte* ql = x[i].Ql;
                byte* qh = x[i].Qh;
                sbyte* sc = x[i].Scales;
                for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
                {
                    for (int l = 0; l < 32; ++l)
                    {
                        int s = l / 16;
                        int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        y[l] = d * sc[s] * q1;
                        y[l + 32] = d * sc[s + 2] * q2;
                        y[l + 64] = d * sc[s + 4] * q3;
                        y[l + 96] = d * sc[s + 6] * q4;
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q6_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ6_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ6_K*)xb;
            float* y = yf;
            Vector128<byte> mask = Vector128.Create((byte)0x0F), three = Vector128.Create((byte)3), m32 = Vector128.Create((byte)32);
            for (int i = 0; i < nb; i++)
            {
                float d = KQuantMath.Fp16ToFp32(x[i].D);
                byte* ql = x[i].Ql;
                byte* qh = x[i].Qh;
                sbyte* sc = x[i].Scales;
                for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
                {
                    for (int h = 0; h < 32; h += 16)
                    {
                        int s = h / 16;
                        Vector128<byte> a = Vector128.Load(ql + h), b = Vector128.Load(ql + 32 + h), hb = Vector128.Load(qh + h);
                        Vector128<byte> q1 = (a & mask) | Vector128.ShiftLeft(hb & three, 4);
                        Vector128<byte> q2 = (b & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 2) & three, 4);
                        Vector128<byte> q3 = Vector128.ShiftRightLogical(a, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 4) & three, 4);
                        Vector128<byte> q4 = Vector128.ShiftRightLogical(b, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hb, 6), 4);
                        KQuantMath.StoreScaled16((q1 - m32).AsSByte(), d * sc[s], y + h);
                        KQuantMath.StoreScaled16((q2 - m32).AsSByte(), d * sc[s + 2], y + 32 + h);
                        KQuantMath.StoreScaled16((q3 - m32).AsSByte(), d * sc[s + 4], y + 64 + h);
                        KQuantMath.StoreScaled16((q4 - m32).AsSByte(), d * sc[s + 6], y + 96 + h);
                    }
                }
            }
        }
    }
}
