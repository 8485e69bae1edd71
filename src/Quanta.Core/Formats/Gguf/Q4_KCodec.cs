using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q4_K row codec: <see cref="Quantize"/> is ggml's quantize_row_q4_K_ref (what llama-quantize writes without an
/// importance matrix), byte for byte; both dequantizers equal ggml's dequantize_row_q4_K bit for bit.
/// </summary>
public sealed unsafe class Q4_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q4_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q4_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q4_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ4_K.Size, true);
        byte* L = stackalloc byte[256];   // quants of one super-block
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
            var y = (BlockQ4_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float maxScale = 0, maxMin = 0;
                for (int j = 0; j < 8; ++j)
                {
                    float sumX2 = 0;
                    for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
                    float avX = MathF.Sqrt(sumX2 / 32);
                    for (int l = 0; l < 32; ++l) weights[l] = avX + MathF.Abs(x[32 * j + l]);
                    scales[j] = KQuantMath.MakeQkx2Quants(32, 15, x + 32 * j, weights, L + 32 * j, out mins[j], laux, -1f, 0.1f, 20, false);
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
                BlockQ4_K* b = y + i;
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
                        L[32 * j + ii] = (byte)Math.Max(0, Math.Min(15, l));
                    }
                }
                byte* q = b->Qs;
                for (int j = 0; j < 256; j += 64, q += 32)
                    for (int l = 0; l < 32; ++l) q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ4_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ4_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                byte* q = x[i].Qs;
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                for (int j = 0, s = 0; j < 256; j += 64, s += 2, q += 32)
                {
                    KQuantMath.GetScaleMinK4(s, x[i].Scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantMath.GetScaleMinK4(s + 1, x[i].Scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
                    for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q4_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ4_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ4_K*)xb;
            float* y = yf;
            Vector128<byte> mask = Vector128.Create((byte)0x0F);
            for (int i = 0; i < nb; i++)
            {
                byte* q = x[i].Qs;
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                for (int s = 0; s < 8; s += 2, q += 32, y += 64)
                {
                    KQuantMath.GetScaleMinK4(s, x[i].Scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantMath.GetScaleMinK4(s + 1, x[i].Scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                    KQuantMath.StoreAffine16(q0 & mask, d1, m1, y);
                    KQuantMath.StoreAffine16(q1 & mask, d1, m1, y + 16);
                    KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q0, 4), d2, m2, y + 32);
                    KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q1, 4), d2, m2, y + 48);
                }
            }
        }
    }
}
