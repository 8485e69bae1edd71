using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q2_K row codec: <see cref="Quantize"/> is ggml's quantize_row_q2_K_ref byte for byte; both dequantizers equal
/// ggml's dequantize_row_q2_K bit for bit.
/// </summary>
public sealed unsafe class Q2_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q2_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q2_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q2_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ2_K.Size, true);
        byte* L = stackalloc byte[256];
        byte* laux = stackalloc byte[16];
        float* weights = stackalloc float[16];
        float* mins = stackalloc float[16];
        float* scales = stackalloc float[16];
        const float q4scale = 15f;
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ2_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float maxScale = 0, maxMin = 0;
                for (int j = 0; j < 16; ++j)
                {
                    for (int l = 0; l < 16; ++l) weights[l] = MathF.Abs(x[16 * j + l]);
                    scales[j] = KQuantMath.MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, out mins[j], laux, -0.5f, 0.1f, 15, true);
                    if (scales[j] > maxScale) maxScale = scales[j];
                    if (mins[j] > maxMin) maxMin = mins[j];
                }
                BlockQ2_K* b = y + i;
                byte* bs = b->Scales;
                if (maxScale > 0)
                {
                    float iscale = q4scale / maxScale;
                    for (int j = 0; j < 16; ++j) bs[j] = (byte)KQuantMath.NearestInt(iscale * scales[j]);
                    b->D = KQuantMath.Fp32ToFp16(maxScale / q4scale);
                }
                else
                {
                    for (int j = 0; j < 16; ++j) bs[j] = 0;
                    b->D = KQuantMath.Fp32ToFp16(0f);
                }
                if (maxMin > 0)
                {
                    float iscale = q4scale / maxMin;
                    for (int j = 0; j < 16; ++j) bs[j] |= (byte)(KQuantMath.NearestInt(iscale * mins[j]) << 4);
                    b->DMin = KQuantMath.Fp32ToFp16(maxMin / q4scale);
                }
                else
                {
                    b->DMin = KQuantMath.Fp32ToFp16(0f);
                }
                float dAll = KQuantMath.Fp16ToFp32(b->D), mAll = KQuantMath.Fp16ToFp32(b->DMin);
                for (int j = 0; j < 16; ++j)
                {
                    float d = dAll * (bs[j] & 0xF);
                    if (d == 0) continue;
                    float dm = mAll * (bs[j] >> 4);
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = KQuantMath.NearestInt((x[16 * j + ii] + dm) / d);
                        L[16 * j + ii] = (byte)Math.Max(0, Math.Min(3, l));
                    }
                }
                byte* qs = b->Qs;
                for (int j = 0; j < 256; j += 128)
                    for (int l = 0; l < 32; ++l)
                        qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ2_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ2_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                byte* q = x[i].Qs;
                int s = 0;
                for (int n = 0; n < 256; n += 128, q += 32)
                {
                    for (int j = 0, shift = 0; j < 4; ++j, shift += 2)
                    {
                        byte sc = x[i].Scales[s++];
                        float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                        for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l] >> shift) & 3) - ml;
                        sc = x[i].Scales[s++];
                        dl = d * (sc & 0xF); ml = min * (sc >> 4);
                        for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q2_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ2_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ2_K*)xb;
            float* y = yf;
            Vector128<byte> three = Vector128.Create((byte)3);
            for (int i = 0; i < nb; i++)
            {
                float d = KQuantMath.Fp16ToFp32(x[i].D), min = KQuantMath.Fp16ToFp32(x[i].DMin);
                byte* q = x[i].Qs;
                int s = 0;
                for (int n = 0; n < 256; n += 128, q += 32)
                {
                    Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                    for (int shift = 0; shift < 8; shift += 2, y += 32)
                    {
                        byte sc = x[i].Scales[s++];
                        KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q0, shift) & three, d * (sc & 0xF), min * (sc >> 4), y);
                        sc = x[i].Scales[s++];
                        KQuantMath.StoreAffine16(Vector128.ShiftRightLogical(q1, shift) & three, d * (sc & 0xF), min * (sc >> 4), y + 16);
                    }
                }
            }
        }
    }
}
