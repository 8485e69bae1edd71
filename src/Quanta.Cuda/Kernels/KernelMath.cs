using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// exp and tanh for kernels, from float arithmetic and bit operations only, so they compile for any ILGPU backend
/// without a math library (no libdevice, no ILGPU.Algorithms) and give the same values on the CPU accelerator and the
/// GPU up to fused multiply-adds. exp: Cody–Waite reduction x = k·ln2 + r (|r| ≤ ln2/2), a degree-6 Taylor polynomial of
/// e^r (truncation ≤ 1.2e-7 relative) and 2^k built from its bits; relative error within about 3e-7 over the float
/// range, +∞ above 88.72, 0 below −103.97, NaN for NaN. tanh(x) = sign(x)·(1 − e^(−2|x|))/(1 + e^(−2|x|)), with the
/// series x − x³/3 + 2x⁵/15 for |x| &lt; 0.02 to avoid cancellation.
/// </summary>
internal static class KernelMath
{
    public static float Exp(float x)
    {
        if (x > 88.72283f) return float.PositiveInfinity;
        if (x < -103.97208f) return 0f;
        float kf = (x * 1.44269504f + 12582912f) - 12582912f;   // round to nearest integer (1.5·2^23 trick)
        float r = x - kf * 0.693145752f;                         // ln2 high part (exact product for |k| < 2^11)
        r -= kf * 1.42860677e-6f;                                // ln2 low part
        float p = 1f + r * (1f + r * (0.5f + r * (1f / 6f + r * (1f / 24f + r * (1f / 120f + r * (1f / 720f))))));
        int k = (int)kf;
        if (k > 127) return p * 2f * Pow2(k - 1);
        if (k < -126) return p * Pow2(k + 100) * Pow2(-100);
        return p * Pow2(k);
    }

    public static float Tanh(float x)
    {
        float a = x < 0f ? -x : x;
        float t;
        if (a < 0.02f)
        {
            float a2 = a * a;
            t = a * (1f - a2 * (1f / 3f - a2 * (2f / 15f)));
        }
        else
        {
            float e = Exp(-2f * a);
            t = (1f - e) / (1f + e);
        }
        return x < 0f ? -t : (x > 0f ? t : x);   // keeps ±0 and NaN
    }

    /// <summary>2^k for k in [−126, 127], from the exponent bits.</summary>
    private static float Pow2(int k) => Bits.IntAsFloat((uint)(k + 127) << 23);
}
