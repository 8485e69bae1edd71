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
        byte* L = stackalloc byte[256];   // [256] quants of one super-block
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ4_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                BlockQ4_K* b = y + i;
                ScaleMinSuperBlock.Quantize(x, 15, -1f, 20, (byte*)b, L);
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
