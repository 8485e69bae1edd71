using System.Runtime.InteropServices;

namespace Quanta.Core.Tests.Support;

/// <summary>
/// Q8_K entry points: ggml's type-traits table has no to_float / from_float_ref for Q8_K (it is an
/// activation-only type), so the exported reference functions of ggml-base are called directly.
/// </summary>
internal static unsafe partial class GgmlNative
{
    [DllImport(Base, EntryPoint = "quantize_row_q8_K_ref")]
    private static extern void quantize_row_q8_K_ref(float* x, byte* y, long k);

    [DllImport(Base, EntryPoint = "dequantize_row_q8_K")]
    private static extern void dequantize_row_q8_K(byte* x, float* y, long k);

    /// <summary>ggml quantize_row_q8_K_ref.</summary>
    internal static void Q8KFromFloatRef(ReadOnlySpan<float> src, Span<byte> dst, long k)
    {
        EnsureInitialized();
        fixed (float* s = src) fixed (byte* d = dst) quantize_row_q8_K_ref(s, d, k);
    }

    /// <summary>ggml dequantize_row_q8_K.</summary>
    internal static void Q8KToFloat(ReadOnlySpan<byte> src, Span<float> dst, long k)
    {
        EnsureInitialized();
        fixed (byte* s = src) fixed (float* d = dst) dequantize_row_q8_K(s, d, k);
    }
}
