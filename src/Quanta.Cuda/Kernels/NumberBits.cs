using ILGPU;
using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// BF16 and OCP FP8 E4M3 conversions written for ILGPU kernels (bit operations and exactly rounded float adds only,
/// so they give the same bits on the CPU accelerator and on the GPU). Semantics match Quanta.Core's scalar references:
/// BF16 rounds to nearest even and quiets NaN (BF16Conversion.FromSingle); E4M3 rounds to nearest even, keeps
/// subnormals, saturates finite overflow and infinities to ±448 and maps NaN to the NaN code with the input's sign
/// (Fp8E4M3.Encode with saturate).
/// </summary>
internal static class NumberBits
{
    /// <summary>F32 → BF16 bits, round to nearest even, NaN made quiet.</summary>
    public static ushort ToBf16(float value)
    {
        uint u = Bits.FloatAsInt(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 64u);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }

    /// <summary>BF16 bits → F32 (exact).</summary>
    public static float FromBf16(ushort bits) => Bits.IntAsFloat((uint)bits << 16);

    /// <summary>E4M3 code → F32 (exact; NaN codes give a quiet NaN with the code's sign).</summary>
    public static float FromE4M3(byte bits)
    {
        uint sign = (uint)(bits & 0x80) << 24;
        int e = (bits >> 3) & 0xF, m = bits & 7;
        if (e == 0xF && m == 7) return Bits.IntAsFloat(sign | 0x7FC00000u);
        float v = e == 0
            ? m * (1f / 512f)                                                   // m · 2^-9
            : Bits.IntAsFloat((uint)(e - 7 + 127) << 23) * (1f + m * 0.125f);  // 2^(e-7) · (1 + m/8)
        return Bits.IntAsFloat(Bits.FloatAsInt(v) | sign);
    }

    /// <summary>F32 → E4M3 code, round to nearest even, saturating (see the type's summary).</summary>
    public static byte ToE4M3(float value)
    {
        uint u = Bits.FloatAsInt(value);
        uint sign = (u >> 24) & 0x80u;
        uint abs = u & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) return (byte)(sign | 0x7Fu);            // NaN keeps its sign
        if (abs >= 0x43E00000u) return (byte)(sign | 0x7Eu);           // ≥ 448 (and +inf): saturate
        float a = Bits.IntAsFloat(abs);
        int code;
        if (abs < 0x3C800000u)                                          // below 2^-6: subnormal grid of 2^-9
        {
            // a·2^9 is exact; adding and removing 2^23 rounds it to an integer with ties to even
            float r = (a * 512f + 8388608f) - 8388608f;
            code = (int)r;                                              // 8 means the smallest normal, code 0x08
        }
        else
        {
            int e = (int)(abs >> 23) - 127;                             // −6 … 8
            float q = Bits.IntAsFloat((uint)(127 - e + 3) << 23);    // 2^(3−e): one mantissa step becomes 1
            float r = (a * q + 8388608f) - 8388608f;                    // in [8, 16]
            code = ((e + 7) << 3) + ((int)r - 8);                       // 16 carries into the exponent
        }
        if (code > 0x7E) code = 0x7E;
        return (byte)(sign | (uint)code);
    }
}
