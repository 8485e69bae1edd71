namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// The quantizer shared by Q4_K and Q5_K (ggml's quantize_row_q4_K_ref / quantize_row_q5_K_ref up to the bit packing):
/// a 256-value super-block in eight sub-blocks of 32, each with an affine scale and min found by
/// <see cref="KQuantMath.MakeQkx2Quants"/>; the 16 scales and mins are quantized to 6 bits against two fp16
/// super-scales, and the quants are then recomputed against the stored (rounded) scales so that dequantization
/// reproduces what was chosen. Both block structs start with the same header: D (fp16), DMin (fp16), Scales[12].
/// </summary>
internal static unsafe class ScaleMinSuperBlock
{
    /// <summary>Bytes of the shared header: D, DMin and the 12 packed scale/min bytes.</summary>
    public const int HeaderBytes = 16;

    /// <summary>
    /// Quantizes one super-block: writes the header at <paramref name="header"/> (D at 0, DMin at 2, scales at 4) and
    /// the 256 quants, each in [0, <paramref name="nmax"/>], to <paramref name="L"/>, in value order.
    /// </summary>
    /// <param name="x">256 floats.</param>
    /// <param name="nmax">15 for 4-bit, 31 for 5-bit quants.</param>
    /// <param name="rmin">ggml's search start (-1 for Q4_K, -0.5 for Q5_K).</param>
    /// <param name="nstep">ggml's search steps (20 for Q4_K, 15 for Q5_K).</param>
    /// <param name="header">16 bytes: D, DMin, Scales[12].</param>
    /// <param name="L">[256] quants out.</param>
    public static void Quantize(float* x, int nmax, float rmin, int nstep, byte* header, byte* L)
    {
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        byte* ls = stackalloc byte[8];
        byte* lm = stackalloc byte[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; ++j)
        {
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = avX + MathF.Abs(x[32 * j + l]);
            scales[j] = KQuantMath.MakeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, out mins[j], laux, rmin, 0.1f, nstep, false);
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
        byte* packed = header + 4;
        KQuantMath.PackScaleMinK4(ls, lm, packed);
        ushort d = KQuantMath.Fp32ToFp16(maxScale / 63f), dMin = KQuantMath.Fp32ToFp16(maxMin / 63f);
        ((ushort*)header)[0] = d;
        ((ushort*)header)[1] = dMin;
        float dAll = KQuantMath.Fp16ToFp32(d), mAll = KQuantMath.Fp16ToFp32(dMin);
        for (int j = 0; j < 8; ++j)
        {
            KQuantMath.GetScaleMinK4(j, packed, out byte sc, out byte m);
            float ds = dAll * sc;
            if (ds == 0) continue;
            float dm = mAll * m;
            for (int ii = 0; ii < 32; ++ii)
            {
                int l = KQuantMath.NearestInt((x[32 * j + ii] + dm) / ds);
                L[32 * j + ii] = (byte)Math.Max(0, Math.Min(nmax, l));
            }
        }
    }
}
