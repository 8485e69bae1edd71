using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Q8_K row codec (the K-quant activation format): <see cref="Quantize"/> is ggml's quantize_row_q8_K_ref byte
/// for byte (bsums included; an all-zero block gets d = 0, zero quants and zero bsums); both dequantizers equal
/// ggml's dequantize_row_q8_K bit for bit.
/// </summary>
public sealed unsafe class Q8_KCodec : IRowCodec
{
    /// <summary>Shared stateless instance.</summary>
    public static readonly Q8_KCodec Instance = new();

    /// <inheritdoc/>
    public string Name => "Q8_K";
    /// <inheritdoc/>
    public int BlockSize => KQuantMath.QK_K;
    /// <inheritdoc/>
    public long RowBytes(int n) => GgmlTypeInfo.RowBytes(GgmlType.Q8_K, n);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantMath.CheckRow(src.Length, src.Length, dst.Length, BlockQ8_K.Size, true);
        fixed (float* xs = src)
        fixed (byte* yb = dst)
        {
            float* x = xs;
            var y = (BlockQ8_K*)yb;
            for (int i = 0; i < nb; i++, x += 256)
            {
                float max = 0, amax = 0;
                for (int j = 0; j < 256; ++j)
                {
                    float ax = MathF.Abs(x[j]);
                    if (ax > amax) { amax = ax; max = x[j]; }
                }
                BlockQ8_K* b = y + i;
                if (amax == 0)
                {
                    new Span<byte>(b, BlockQ8_K.Size).Clear();
                    continue;
                }
                float iscale = -127f / max;
                for (int j = 0; j < 256; ++j) b->Qs[j] = (sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * x[j]));
                for (int j = 0; j < 16; ++j)
                {
                    int sum = 0;
                    for (int ii = 0; ii < 16; ++ii) sum += b->Qs[j * 16 + ii];
                    b->BSums[j] = (short)sum;
                }
                b->D = 1 / iscale;
            }
        }
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ8_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ8_K*)xb;
            for (int i = 0; i < nb; i++)
                for (int j = 0; j < 256; ++j) yf[i * 256 + j] = x[i].D * x[i].Qs[j];
        }
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        SimdPath path = KQuantMath.DequantPath;
        KernelPaths.Record("q8_k.dequantize", path);
        if (path == SimdPath.Scalar) { DequantizeReference(src, dst); return; }
        int nb = KQuantMath.CheckRow(dst.Length, src.Length, dst.Length, BlockQ8_K.Size, false);
        fixed (byte* xb = src)
        fixed (float* yf = dst)
        {
            var x = (BlockQ8_K*)xb;
            float* y = yf;
            for (int i = 0; i < nb; i++)
            {
                float d = x[i].D;
                sbyte* q = x[i].Qs;
                for (int j = 0; j < 256; j += 16, y += 16) KQuantMath.StoreScaled16(Vector128.Load(q + j), d, y);
            }
        }
    }
}
