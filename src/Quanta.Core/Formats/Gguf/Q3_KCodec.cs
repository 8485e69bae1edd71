using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q3_K row codec: <see cref="Quantize"/> is ggml's quantize_row_q3_K_ref byte for byte; both dequantizers equal
/// ggml's dequantize_row_q3_K bit for bit.
/// </summary>
public sealed unsafe class Q3_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q3_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q3_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q3_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ3_K.Size, true);
        sbyte* L = stackalloc sbyte[256];
        float* scales = stackalloc float[16];
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ3_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float maxScale = 0, amax = 0;
                for (int j = 0; j < 16; ++j)
                {
                    scales[j] = KQuantMath.MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
                    float scale = MathF.Abs(scales[j]);
                    if (scale > amax) { amax = scale; maxScale = scales[j]; }
                }
                BlockQ3_K* b = y + i;
                byte* bs = b->Scales;
                for (int j = 0; j < 12; ++j) bs[j] = 0;
                if (maxScale != 0)
                {
                    float iscale = -32f / maxScale;
                    for (int j = 0; j < 16; ++j)
                    {
                        sbyte l8 = (sbyte)KQuantMath.NearestInt(iscale * scales[j]);
                        int l = Math.Max(-32, Math.Min(31, (int)l8)) + 32;
                        if (j < 8) bs[j] = (byte)(l & 0xF);
                        else bs[j - 8] |= (byte)((l & 0xF) << 4);
                        l >>= 4;
                        bs[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                    }
                    b->D = KQuantMath.Fp32ToFp16(1 / iscale);
                }
                else
                {
                    b->D = KQuantMath.Fp32ToFp16(0f);
                }
                float dAll = KQuantMath.Fp16ToFp32(b->D);
                for (int j = 0; j < 16; ++j)
                {
                    int sc = j < 8 ? bs[j] & 0xF : bs[j - 8] >> 4;
                    sc = (sbyte)((sc | (((bs[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
                    float d = dAll * sc;
                    if (d == 0) continue;
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = KQuantMath.NearestInt(x[16 * j + ii] / d);
                        L[16 * j + ii] = (sbyte)(Math.Max(-4, Math.Min(3, l)) + 4);
                    }
                }
                byte* hmask = b->HMask;
                for (int j = 0; j < 32; ++j) hmask[j] = 0;
                int m = 0;
                byte hm = 1;
                for (int j = 0; j < 256; ++j)
                {
                    if (L[j] > 3) { hmask[m] |= hm; L[j] -= 4; }
                    if (++m == 32) { m = 0; hm <<= 1; }
                }
                byte* qs = b->Qs;
                for (int j = 0; j < 256; j += 128)
                    for (int l = 0; l < 32; ++l)
                        qs[j / 4 + l] = (byte)((byte)L[j + l] | ((byte)L[j + l + 32] << 2) | ((byte)L[j + l + 64] << 4) | ((byte)L[j + l + 96] << 6));
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ3_K.Size, false);
        sbyte* scales = stackalloc sbyte[16];
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ3_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                float dAll = KQuantMath.Fp16ToFp32(x[i].D);
                byte* q = x[i].Qs;
                byte* hm = x[i].HMask;
                KQuantMath.UnpackQ3Scales(x[i].Scales, scales);
                int s = 0, m = 1;
                for (int n = 0; n < 256; n += 128, q += 32)
                {
                    for (int j = 0, shift = 0; j < 4; ++j, shift += 2, m <<= 1)
                    {
                        float dl = dAll * scales[s++];
                        for (int l = 0; l < 16; ++l) *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                        dl = dAll * scales[s++];
                        for (int l = 0; l < 16; ++l) *y++ = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q3_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ3_K.Size, false);
        sbyte* scales = stackalloc sbyte[16];
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ3_K*)xb;
            float* y = yf;
            Vector128<byte> three = Vector128.Create((byte)3), four = Vector128.Create((byte)4);
            for (int i = 0; i < nb; i++)
            {
                float dAll = KQuantMath.Fp16ToFp32(x[i].D);
                byte* q = x[i].Qs;
                Vector128<byte> h0 = Vector128.Load(x[i].HMask), h1 = Vector128.Load(x[i].HMask + 16);
                KQuantMath.UnpackQ3Scales(x[i].Scales, scales);
                int s = 0, bit = 0;
                for (int n = 0; n < 256; n += 128, q += 32)
                {
                    Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                    for (int shift = 0; shift < 8; shift += 2, bit++, y += 32)
                    {
                        Vector128<byte> m = Vector128.Create((byte)(1 << bit));
                        // value = 2-bit quant - 4 where the element's hmask bit is clear
                        Vector128<byte> v0 = (Vector128.ShiftRightLogical(q0, shift) & three) - (Vector128.Equals(h0 & m, Vector128<byte>.Zero) & four);
                        Vector128<byte> v1 = (Vector128.ShiftRightLogical(q1, shift) & three) - (Vector128.Equals(h1 & m, Vector128<byte>.Zero) & four);
                        KQuantMath.StoreScaled16(v0.AsSByte(), dAll * scales[s++], y);
                        KQuantMath.StoreScaled16(v1.AsSByte(), dAll * scales[s++], y + 16);
                    }
                }
            }
        }
    }
}
