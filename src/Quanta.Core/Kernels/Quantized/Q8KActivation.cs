using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// The Q8_K activation side of the K-quant dot products.
/// <see cref="Quantize"/> converts an F32 activation row to Q8_K exactly as llama.cpp's CPU backend does at
/// run time: on x86 its quantize_row_q8_K is a jump to quantize_row_q8_K_ref (checked in the shipped binary),
/// so the bytes equal the reference quantizer's, bsums included.
/// <see cref="ScaledDot256"/> is the integer core every K-quant kernel shares: the dot product of 256 unsigned
/// weight quants with one Q8_K block's quants, each 16-element group weighted by its integer scale.
/// </summary>
public static unsafe class Q8KActivation
{
    /// <summary>Bytes of a Q8_K row of <paramref name="n"/> elements (n a multiple of 256).</summary>
    public static int RowBytes(int n) => n / KQuantMath.QK_K * BlockQ8_K.Size;

    /// <summary>F32 row (n a multiple of 256) to Q8_K bytes (n / 256 * 292 bytes).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> dst) => Q8_KCodec.Instance.Quantize(x, dst);

    /// <summary>The path <see cref="ScaledDot256"/> takes in this process.</summary>
    public static SimdPath Path =>
        Vector512.IsHardwareAccelerated && Avx512BW.IsSupported ? SimdPath.V512 :
        Vector256.IsHardwareAccelerated && Avx2.IsSupported ? SimdPath.V256 :
        Vector128.IsHardwareAccelerated && (Ssse3.IsSupported || AdvSimd.IsSupported) ? SimdPath.V128 : SimdPath.Scalar;

    /// <summary>
    /// Σ_g sc[g] · Σ_{i in group g} u[i] · q8[i] over 16 groups of 16, exact in int32.
    /// u: [256] values 0..63 (vpmaddubsw pairs then stay below 2·63·128, no saturation); q8: [256];
    /// sc: [16] scales in -128..127.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ScaledDot256(byte* u, sbyte* q8, short* sc)
    {
        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported)
        {
            // 16 scales in the low half; vpermw spreads scale 4k+j over the 8 pair-sums of group j
            Vector512<short> s = Vector256.Load(sc).ToVector512Unsafe();
            Vector512<short> baseIdx = Vector512.Create(
                (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
            Vector512<short> four = Vector512.Create((short)4);
            Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero;
            for (int k = 0; k < 4; k += 2)
            {
                Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(Vector512.Load(u + 64 * k), Vector512.Load(q8 + 64 * k));
                Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(Vector512.Load(u + 64 * k + 64), Vector512.Load(q8 + 64 * k + 64));
                Vector512<short> i0 = baseIdx + four * Vector512.Create((short)k);
                acc0 += Avx512BW.MultiplyAddAdjacent(p0, Avx512BW.PermuteVar32x16(s, i0));
                acc1 += Avx512BW.MultiplyAddAdjacent(p1, Avx512BW.PermuteVar32x16(s, i0 + four));
            }
            return Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported)
        {
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            for (int k = 0; k < 8; k += 2)
            {
                Vector256<short> p0 = Avx2.MultiplyAddAdjacent(Vector256.Load(u + 32 * k), Vector256.Load(q8 + 32 * k));
                Vector256<short> p1 = Avx2.MultiplyAddAdjacent(Vector256.Load(u + 32 * k + 32), Vector256.Load(q8 + 32 * k + 32));
                Vector256<short> s0 = Vector256.Create(Vector128.Create(sc[2 * k]), Vector128.Create(sc[2 * k + 1]));
                Vector256<short> s1 = Vector256.Create(Vector128.Create(sc[2 * k + 2]), Vector128.Create(sc[2 * k + 3]));
                acc0 += Avx2.MultiplyAddAdjacent(p0, s0);
                acc1 += Avx2.MultiplyAddAdjacent(p1, s1);
            }
            return Vector256.Sum(acc0 + acc1);
        }
        if (Vector128.IsHardwareAccelerated && Ssse3.IsSupported)
        {
            Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero;
            for (int g = 0; g < 16; g += 2)
            {
                Vector128<short> p0 = Ssse3.MultiplyAddAdjacent(Vector128.Load(u + 16 * g), Vector128.Load(q8 + 16 * g));
                Vector128<short> p1 = Ssse3.MultiplyAddAdjacent(Vector128.Load(u + 16 * g + 16), Vector128.Load(q8 + 16 * g + 16));
                acc0 += Sse2.MultiplyAddAdjacent(p0, Vector128.Create(sc[g]));
                acc1 += Sse2.MultiplyAddAdjacent(p1, Vector128.Create(sc[g + 1]));
            }
            return Vector128.Sum(acc0 + acc1);
        }
        if (Vector128.IsHardwareAccelerated && AdvSimd.IsSupported)
        {
            // widening multiplies: u·q8 fits a short (63·128), a group's 16 products fit an int
            Vector128<int> acc = Vector128<int>.Zero;
            for (int g = 0; g < 16; g++)
            {
                Vector128<byte> uv = Vector128.Load(u + 16 * g);
                Vector128<sbyte> qv = Vector128.Load(q8 + 16 * g);
                Vector128<short> lo = Vector128.WidenLower(uv).AsInt16() * Vector128.WidenLower(qv);
                Vector128<short> hi = Vector128.WidenUpper(uv).AsInt16() * Vector128.WidenUpper(qv);
                Vector128<int> sum = Vector128.WidenLower(lo) + Vector128.WidenUpper(lo) + Vector128.WidenLower(hi) + Vector128.WidenUpper(hi);
                acc += sum * Vector128.Create((int)sc[g]);
            }
            return Vector128.Sum(acc);
        }
        return ScaledDot256Scalar(u, q8, sc);
    }

    /// <summary>Scalar form of <see cref="ScaledDot256"/>.</summary>
    internal static int ScaledDot256Scalar(byte* u, sbyte* q8, short* sc)
    {
        int total = 0;
        for (int g = 0; g < 16; g++)
        {
            int s = 0;
            for (int i = 16 * g; i < 16 * g + 16; i++) s += u[i] * q8[i];
            total += sc[g] * s;
        }
        return total;
    }

    /// <summary>Σ_g w[g] · bsums[g] over the 16 groups of a Q8_K block. w: [16].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int GroupSum(short* w, BlockQ8_K* y)
    {
        int s = 0;
        for (int g = 0; g < 16; g++) s += w[g] * y->BSums[g];
        return s;
    }

    /// <summary>Throws unless n is a positive multiple of 256 and both rows hold n elements.</summary>
    internal static int CheckDot(int n, int weightLen, int weightBlockBytes, int activationLen)
    {
        if (n <= 0 || n % KQuantMath.QK_K != 0) throw new ArgumentException($"row length {n} is not a positive multiple of 256");
        int nb = n / KQuantMath.QK_K;
        if (weightLen < (long)nb * weightBlockBytes) throw new ArgumentException("weight row is shorter than n elements");
        if (activationLen < (long)nb * BlockQ8_K.Size) throw new ArgumentException("activation row is shorter than n elements");
        return nb;
    }
}
