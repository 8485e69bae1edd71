using ILGPU;
using Bits = ILGPU.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// One-token product with FP8 E4M3 weights and F32 activations (decode at batch 1, where the product only streams the
/// weights): y[n] = (Σ_k decode(w[n, k])·x[k])·wScale[0] for n &lt; rows, w [rows, cols] row-major codes read as 8-byte
/// words (cols a multiple of 8). The activations stay F32 (no per-tensor quantization pass and no FP8 rounding of x).
/// <para>Each warp computes <see cref="RowsPerWarp"/> rows, so every x load serves two rows; its lanes stride over the
/// rows' 8-byte words (coalesced 256-byte loads), four words per row per step so that eight loads are in flight. A code's
/// value comes from its bits: sign to bit 31, the 7 magnitude bits (4 exponent, 3 mantissa) to bits 20..26 of an F32,
/// which is then exactly decode(code)·2^−120 (E4M3 subnormals become F32 subnormals); x is scaled by 2^64 on load so
/// the products stay F32 normals, and each row's sum is scaled back by 2^56 (powers of two: exact).
/// The NaN code (0x7F) is not decoded as NaN (weights hold none). Lanes' partial sums meet in a shuffle butterfly.</para>
/// Reference: Quanta.Core Fp8E4M3.Decode per element, summed in double.
/// </summary>
internal static class Fp8GemvKernel
{
    /// <summary>Output rows per warp.</summary>
    public const int RowsPerWarp = 2;

    private const float TwoPow64 = 18446744073709551616f;   // 2^64: x is scaled by it on load
    private const float TwoPow56 = 72057594037927936f;      // 2^56 = 2^120 / 2^64, applied to each sum

    public static void Run(ArrayView<ulong> w, ArrayView<float> x, ArrayView<float> wScale, ArrayView<float> y, int rows, int cols)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx;
        int warp = Grid.IdxX * (Group.DimX / ws) + Group.IdxX / ws;
        int r0 = warp * RowsPerWarp;
        if (r0 >= rows) return;   // whole warps leave: no barrier follows
        bool two = r0 + 1 < rows;
        int words = cols / 8;
        long o0 = (long)r0 * words, o1 = two ? o0 + words : o0;
        float a0 = 0f, a1 = 0f;
        int j = lane;
        for (; j + 3 * ws < words; j += 4 * ws)
        {
            // four words per row per step: eight 8-byte loads in flight per lane before any decoding
            ulong u0 = w[o0 + j], u1 = w[o0 + j + ws], u2 = w[o0 + j + 2 * ws], u3 = w[o0 + j + 3 * ws];
            ulong v0 = w[o1 + j], v1 = w[o1 + j + ws], v2 = w[o1 + j + 2 * ws], v3 = w[o1 + j + 3 * ws];
            Step(u0, v0, x, j * 8, ref a0, ref a1);
            Step(u1, v1, x, (j + ws) * 8, ref a0, ref a1);
            Step(u2, v2, x, (j + 2 * ws) * 8, ref a0, ref a1);
            Step(u3, v3, x, (j + 3 * ws) * 8, ref a0, ref a1);
        }
        for (; j < words; j += ws) Step(w[o0 + j], w[o1 + j], x, j * 8, ref a0, ref a1);
        a0 = GroupReduce.WarpSum(a0);
        a1 = GroupReduce.WarpSum(a1);
        if (lane == 0)
        {
            float s = wScale[0];
            y[r0] = a0 * TwoPow56 * s;
            if (two) y[r0 + 1] = a1 * TwoPow56 * s;
        }
    }

    /// <summary>Adds the products of two rows' 8 codes (words u0, u1) with x[k .. k + 8) (each x loaded once, ·2^64).</summary>
    private static void Step(ulong u0, ulong u1, ArrayView<float> x, int k, ref float a0, ref float a1)
    {
        float x0 = x[k] * TwoPow64, x1 = x[k + 1] * TwoPow64, x2 = x[k + 2] * TwoPow64, x3 = x[k + 3] * TwoPow64;
        float x4 = x[k + 4] * TwoPow64, x5 = x[k + 5] * TwoPow64, x6 = x[k + 6] * TwoPow64, x7 = x[k + 7] * TwoPow64;
        a0 += Dot8(u0, x0, x1, x2, x3, x4, x5, x6, x7);
        a1 += Dot8(u1, x0, x1, x2, x3, x4, x5, x6, x7);
    }

    /// <summary>Σ of the 8 codes of u (little-endian), each as decode·2^−120 (see the class comment), times x0..x7.</summary>
    private static float Dot8(ulong u, float x0, float x1, float x2, float x3, float x4, float x5, float x6, float x7)
    {
        uint lo = (uint)u, hi = (uint)(u >> 32);
        float s = Code(lo << 24) * x0;
        s += Code(lo << 16) * x1;
        s += Code(lo << 8) * x2;
        s += Code(lo) * x3;
        s += Code(hi << 24) * x4;
        s += Code(hi << 16) * x5;
        s += Code(hi << 8) * x6;
        s += Code(hi) * x7;
        return s;
    }

    /// <summary>
    /// The F32 of the code in bits 24..31 of <paramref name="top"/> (lower bits: other codes or zeros): an arithmetic
    /// shift by 4 puts the magnitude at bits 20..26 and copies the sign into bits 27..31; the mask keeps bit 31 and
    /// bits 20..26 (the lower codes land at bits ≤ 19 and are cleared).
    /// </summary>
    private static float Code(uint top) => Bits.IntAsFloat((uint)((int)top >> 4) & 0x87F00000u);
}
