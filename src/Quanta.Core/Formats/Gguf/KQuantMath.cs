using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Shared arithmetic of the K-quant (super-block of 256) formats: the rounding, fp16 conversion and
/// scale-search routines of ggml's reference quantizers, written so that every float operation happens
/// in the same order and precision as the C code (x86-64 SSE scalar, no FMA contraction), which makes
/// the produced bytes identical; plus small vector helpers the dequantizers share.
/// </summary>
internal static unsafe class KQuantMath
{
    /// <summary>Elements per super-block.</summary>
    public const int QK_K = 256;

    /// <summary>Groups whose largest magnitude is below this are treated as all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// Round to nearest (ties to even) through the float magic-number trick: adding 1.5 * 2^23 leaves the
    /// rounded integer in the low mantissa bits. Valid for |f| &lt;= 4194303; outside that range it returns
    /// the same wrapped value ggml does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float f)
    {
        float v = f + 12582912f;
        int i = BitConverter.SingleToInt32Bits(v);
        return (i & 0x007fffff) - 0x00400000;
    }

    /// <summary>F32 to IEEE half bits, round to nearest even; NaN becomes 0x7E00 (ggml's portable conversion).</summary>
    public static ushort Fp32ToFp16(float f)
    {
        float scaleToInf = BitConverter.Int32BitsToSingle(0x77800000);  // 2^112
        float scaleToZero = BitConverter.Int32BitsToSingle(0x08800000); // 2^-110
        float b = MathF.Abs(f) * scaleToInf * scaleToZero;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1 = w + w;
        uint sign = w & 0x80000000u;
        uint bias = shl1 & 0xFF000000u;
        if (bias < 0x71000000u) bias = 0x71000000u;
        b = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + b;
        uint bits = BitConverter.SingleToUInt32Bits(b);
        uint expBits = (bits >> 13) & 0x00007C00u;
        uint mantBits = bits & 0x00000FFFu;
        uint nonsign = expBits + mantBits;
        return (ushort)((sign >> 16) | (shl1 > 0xFF000000u ? 0x7E00u : nonsign));
    }

    /// <summary>IEEE half bits to F32 (exact; a lookup in <see cref="Fp16Table"/>, same bits as <c>(float)Half</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16ToFp32(ushort h) => Fp16Table.ToSingle(h);

    /// <summary>
    /// ggml make_qx_quants with rmse_type 1 and no importance weights (weights x^2): symmetric quants
    /// L[i] in [0, 2*nmax) for n values, scale returned. x: [n], L: [n].
    /// </summary>
    public static float MakeQxQuants(int n, int nmax, float* x, sbyte* L)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            L[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int it = -9; it <= 9; ++it)
        {
            if (it == 0) continue;
            iscale = -(nmax + 0.1f * it) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * x[i]);
                l = Math.Max(-nmax, Math.Min(nmax - 1, l));
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; ++i)
                {
                    int l = NearestInt(iscale * x[i]);
                    L[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, l)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// ggml make_q3_quants with do_rmse: symmetric quants refined by coordinate descent on the x^2-weighted
    /// error; L[i] in [0, 2*nmax) (or all 0 for an all-zero group). x: [n], L: [n].
    /// </summary>
    public static float MakeQ3Quants(int n, int nmax, float* x, sbyte* L)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; ++i) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            L[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry)
        {
            int nChanged = 0;
            for (int i = 0; i < n; ++i)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * L[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * L[i] * L[i];
                    int newL = NearestInt(x[i] * sl2 / slx);
                    newL = Math.Max(-nmax, Math.Min(nmax - 1, newL));
                    if (newL != L[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (sbyte)newL; sumlx = slx; suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (nChanged == 0) break;
        }
        for (int i = 0; i < n; ++i) L[i] = (sbyte)(L[i] + nmax);
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// ggml make_qkx2_quants: asymmetric quants L[i] in [0, nmax] with a scale (returned) and a min
    /// (<paramref name="theMin"/>, stored negated as ggml does), searched over nstep+1 candidate scales.
    /// x, weights, L, laux: [n].
    /// </summary>
    public static float MakeQkx2Quants(int n, int nmax, float* x, float* weights, byte* L, out float theMin, byte* laux,
        float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0];
        float max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; ++i)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            for (int i = 0; i < n; ++i) L[i] = 0;
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            float w = weights[i];
            bestError += w * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int it = 0; it <= nstep; ++it)
        {
            iscale = (rmin + rdelta * it + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    float w = weights[i];
                    curError += w * diff;
                }
                if (curError < bestError)
                {
                    for (int i = 0; i < n; ++i) L[i] = laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>Unpacks the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes of Q4_K/Q5_K.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GetScaleMinK4(int j, byte* q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63);
            m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    /// <summary>Packs eight 6-bit scales and mins into the 12-byte Q4_K/Q5_K layout. ls, lm: [8] values 0..63.</summary>
    public static void PackScaleMinK4(byte* ls, byte* lm, byte* scales)
    {
        for (int j = 0; j < 8; ++j)
        {
            if (j < 4)
            {
                scales[j] = ls[j];
                scales[j + 4] = lm[j];
            }
            else
            {
                scales[j + 4] = (byte)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                scales[j - 4] |= (byte)((ls[j] >> 4) << 6);
                scales[j] |= (byte)((lm[j] >> 4) << 6);
            }
        }
    }

    /// <summary>Decodes the sixteen 6-bit Q3_K scales (already minus 32) from the 12 packed bytes. dst: [16].</summary>
    public static void UnpackQ3Scales(byte* s, sbyte* dst)
    {
        for (int j = 0; j < 16; ++j)
        {
            int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
            int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
            dst[j] = (sbyte)((lo | (hi << 4)) - 32);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Vector store helpers for the dequantizers. Every one writes 16 floats; products are plain IEEE
    // multiplies and subtractions (no fused multiply-add) so results equal the scalar code bit for bit.
    // Callers only use them when Vector128.IsHardwareAccelerated.
    // ---------------------------------------------------------------------------------------------

    /// <summary>y[0..16) = a * q[i] - b for 16 unsigned byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAffine16(Vector128<byte> q, float a, float b, float* y)
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Vector512<float> f = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(q));
            (f * Vector512.Create(a) - Vector512.Create(b)).Store(y);
        }
        else if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            Vector256<float> f0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q));
            Vector256<float> f1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(q, 8)));
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b);
            (f0 * va - vb).Store(y);
            (f1 * va - vb).Store(y + 8);
        }
        else
        {
            Vector128<ushort> lo = Vector128.WidenLower(q), hi = Vector128.WidenUpper(q);
            Vector128<float> va = Vector128.Create(a), vb = Vector128.Create(b);
            (ToF(Vector128.WidenLower(lo)) * va - vb).Store(y);
            (ToF(Vector128.WidenUpper(lo)) * va - vb).Store(y + 4);
            (ToF(Vector128.WidenLower(hi)) * va - vb).Store(y + 8);
            (ToF(Vector128.WidenUpper(hi)) * va - vb).Store(y + 12);
        }
    }

    /// <summary>y[0..16) = a * q[i] for 16 signed byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreScaled16(Vector128<sbyte> q, float a, float* y)
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Vector512<float> f = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(q));
            (f * Vector512.Create(a)).Store(y);
        }
        else if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            Vector256<float> f0 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q));
            Vector256<float> f1 = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(q, 8)));
            Vector256<float> va = Vector256.Create(a);
            (f0 * va).Store(y);
            (f1 * va).Store(y + 8);
        }
        else
        {
            Vector128<short> lo = Vector128.WidenLower(q), hi = Vector128.WidenUpper(q);
            Vector128<float> va = Vector128.Create(a);
            (Vector128.ConvertToSingle(Vector128.WidenLower(lo)) * va).Store(y);
            (Vector128.ConvertToSingle(Vector128.WidenUpper(lo)) * va).Store(y + 4);
            (Vector128.ConvertToSingle(Vector128.WidenLower(hi)) * va).Store(y + 8);
            (Vector128.ConvertToSingle(Vector128.WidenUpper(hi)) * va).Store(y + 12);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ToF(Vector128<uint> v) => Vector128.ConvertToSingle(v.AsInt32());

    /// <summary>The widest vector path the dequantize helpers take on this process.</summary>
    public static Simd.SimdPath DequantPath =>
        !Vector128.IsHardwareAccelerated ? Simd.SimdPath.Scalar :
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Simd.SimdPath.V512 :
        Vector256.IsHardwareAccelerated && Avx2.IsSupported ? Simd.SimdPath.V256 : Simd.SimdPath.V128;

    /// <summary>Throws unless n is a positive multiple of 256 and the spans hold the row.</summary>
    public static int CheckRow(int n, int srcLen, int dstLen, int bytesPerBlock, bool floatsIn)
    {
        if (n <= 0 || n % QK_K != 0) throw new ArgumentException($"row length {n} is not a positive multiple of {QK_K}");
        int nb = n / QK_K;
        long bytes = (long)nb * bytesPerBlock;
        if (floatsIn ? dstLen < bytes : srcLen < bytes)
            throw new ArgumentException($"buffer holds fewer than the {bytes} bytes of a {n}-element row");
        return nb;
    }
}
