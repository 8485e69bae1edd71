using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Block formats Q4_0 .. Q8_1 to F32, specialized per block type. value = code * d (symmetric formats) or
/// code * d + m (offset formats), each a single fp32 multiply and, where present, a separate fp32 add
/// (never fused), so every path gives the bits of ggml's dequantize_row_* (which the compiled ggml-base
/// library computes with mulss/addss).
/// </summary>
internal static unsafe class LegacyDequantize<TW> where TW : struct, ILegacyWeightBlock
{
    /// <summary>Scalar reference, element by element as ggml writes it.</summary>
    public static void Reference(byte* src, float* dst, int nb)
    {
        for (int ib = 0; ib < nb; ib++)
        {
            byte* b = src + (nint)ib * TW.Bytes;
            float* y = dst + (nint)ib * 32;
            float d = TW.Scale(b);
            if (TW.HasMin)
            {
                float m = TW.Min(b);
                for (int j = 0; j < 32; j++) y[j] = TW.Code(b, j) * d + m;
            }
            else
            {
                for (int j = 0; j < 32; j++) y[j] = TW.Code(b, j) * d;
            }
        }
    }

    /// <summary>Vectorized: Vector512 -> Vector256 -> Vector128 -> scalar.</summary>
    public static void Run(byte* src, float* dst, int nb)
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) Run512(src, dst, nb);
        else if (Vector256.IsHardwareAccelerated && Avx2.IsSupported) Run256(src, dst, nb);
        else if (Vector128.IsHardwareAccelerated) Run128(src, dst, nb);
        else Reference(src, dst, nb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<int> q, Vector512<float> d, Vector512<float> m)
    {
        Vector512<float> v = Vector512.ConvertToSingle(q) * d;
        return TW.HasMin ? v + m : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<int> q, Vector256<float> d, Vector256<float> m)
    {
        Vector256<float> v = Vector256.ConvertToSingle(q) * d;
        return TW.HasMin ? v + m : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Finish(Vector128<int> q, Vector128<float> d, Vector128<float> m)
    {
        Vector128<float> v = Vector128.ConvertToSingle(q) * d;
        return TW.HasMin ? v + m : v;
    }

    private static void Run512(byte* src, float* dst, int nb)
    {
        for (int ib = 0; ib < nb; ib++)
        {
            byte* b = src + (nint)ib * TW.Bytes;
            float* y = dst + (nint)ib * 32;
            TW.Codes128(b, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
            Vector512<float> d = Vector512.Create(TW.Scale(b));
            Vector512<float> m = TW.HasMin ? Vector512.Create(TW.Min(b)) : default;
            Finish(Avx512F.ConvertToVector512Int32(lo), d, m).Store(y);
            Finish(Avx512F.ConvertToVector512Int32(hi), d, m).Store(y + 16);
        }
    }

    private static void Run256(byte* src, float* dst, int nb)
    {
        for (int ib = 0; ib < nb; ib++)
        {
            byte* b = src + (nint)ib * TW.Bytes;
            float* y = dst + (nint)ib * 32;
            TW.Codes128(b, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
            Vector256<float> d = Vector256.Create(TW.Scale(b));
            Vector256<float> m = TW.HasMin ? Vector256.Create(TW.Min(b)) : default;
            // vpmovsxbd reads the low 8 bytes; the byte shift brings bytes 8..15 down
            Finish(Avx2.ConvertToVector256Int32(lo), d, m).Store(y);
            Finish(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(lo, 8)), d, m).Store(y + 8);
            Finish(Avx2.ConvertToVector256Int32(hi), d, m).Store(y + 16);
            Finish(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(hi, 8)), d, m).Store(y + 24);
        }
    }

    private static void Run128(byte* src, float* dst, int nb)
    {
        for (int ib = 0; ib < nb; ib++)
        {
            byte* b = src + (nint)ib * TW.Bytes;
            float* y = dst + (nint)ib * 32;
            TW.Codes128(b, out Vector128<sbyte> lo, out Vector128<sbyte> hi);
            Vector128<float> d = Vector128.Create(TW.Scale(b));
            Vector128<float> m = TW.HasMin ? Vector128.Create(TW.Min(b)) : default;
            Store16(lo, d, m, y);
            Store16(hi, d, m, y + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector128<sbyte> q, Vector128<float> d, Vector128<float> m, float* y)
    {
        Vector128<short> l = Vector128.WidenLower(q), h = Vector128.WidenUpper(q);
        Finish(Vector128.WidenLower(l), d, m).Store(y);
        Finish(Vector128.WidenUpper(l), d, m).Store(y + 4);
        Finish(Vector128.WidenLower(h), d, m).Store(y + 8);
        Finish(Vector128.WidenUpper(h), d, m).Store(y + 12);
    }
}
