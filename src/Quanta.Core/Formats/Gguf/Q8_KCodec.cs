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
                if (!Vector256.IsHardwareAccelerated || !QuantizeBlock256(x, y + i)) QuantizeBlockReference(x, y + i);
            }
        }
    }

    /// <summary>ggml's quantize_row_q8_K_ref for one block of 256 values.</summary>
    private static void QuantizeBlockReference(float* x, BlockQ8_K* b)
    {
        float max = 0, amax = 0;
        for (int j = 0; j < 256; ++j)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0)
        {
            new Span<byte>(b, BlockQ8_K.Size).Clear();
            return;
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

    /// <summary>
    /// The same block with 256-bit vectors, byte for byte: max |x|, then the first element reaching it (ggml keeps the
    /// first on ties), codes by the same multiply and magic-number rounding (separate multiply and add, as in C), group
    /// sums from the int32 codes. Returns false, writing nothing, when max |x| is not a finite non-zero number (NaN, inf
    /// or all zeros), which the reference handles.
    /// </summary>
    private static bool QuantizeBlock256(float* x, BlockQ8_K* b)
    {
        Vector256<float> m = Vector256<float>.Zero;
        for (int k = 0; k < 256; k += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + k)));
        Vector128<float> m4 = Vector128.Max(m.GetLower(), m.GetUpper());
        float amax = MathF.Max(MathF.Max(m4.GetElement(0), m4.GetElement(1)), MathF.Max(m4.GetElement(2), m4.GetElement(3)));
        if (!float.IsFinite(amax) || amax == 0) return false;
        Vector256<float> va = Vector256.Create(amax);
        int first = -1;
        for (int k = 0; k < 256; k += 8)
        {
            uint hit = Vector256.Equals(Vector256.Abs(Vector256.Load(x + k)), va).ExtractMostSignificantBits();
            if (hit != 0) { first = k + System.Numerics.BitOperations.TrailingZeroCount(hit); break; }
        }
        float iscale = -127f / x[first];
        Vector256<float> vs = Vector256.Create(iscale), magic = Vector256.Create(12582912f);
        Vector256<int> low23 = Vector256.Create(0x007fffff), half = Vector256.Create(0x00400000), top = Vector256.Create(127);
        for (int g = 0; g < 16; g++)
        {
            float* xg = x + 16 * g;
            Vector256<float> p0 = Vector256.Load(xg) * vs, p1 = Vector256.Load(xg + 8) * vs;
            Vector256<int> q0 = Vector256.Min(((p0 + magic).AsInt32() & low23) - half, top);
            Vector256<int> q1 = Vector256.Min(((p1 + magic).AsInt32() & low23) - half, top);
            // codes lie in [-128, 127]: truncating narrows keep them
            Vector128<short> s16 = Vector128.Narrow(q0.GetLower(), q0.GetUpper());
            Vector128<short> t16 = Vector128.Narrow(q1.GetLower(), q1.GetUpper());
            Vector128.Narrow(s16, t16).Store(b->Qs + 16 * g);
            b->BSums[g] = (short)Vector256.Sum(q0 + q1);
        }
        b->D = 1 / iscale;
        return true;
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
