using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Core.Kernels.Integer;

/// <summary>
/// Activation rows in ggml's Q8_0 block format, as the integer dot kernels consume them.
/// <para>Block (34 bytes, 32 elements): <c>[Half d][sbyte qs[32]]</c>; element k is <c>d * qs[k]</c>.</para>
/// <para><see cref="Quantize"/> reproduces ggml's CPU backend run-time quantizer (quantize_row_q8_0 in
/// ggml-cpu/arch/x86/quants.c, the path llama.cpp takes on AVX/AVX2/AVX-512 machines), NOT the reference
/// quantize_row_q8_0_ref: <c>amax = max |x|</c>, <c>d = amax / 127</c> stored as fp16 (round to nearest even),
/// <c>id = amax != 0 ? 127 / amax : 0</c>, <c>qs = round_half_to_even(x * id)</c> (F32 multiply, then
/// vroundps with _MM_ROUND_NEAREST). The reference instead computes <c>roundf(x / d)</c> (half away from zero, and a
/// division), which differs in a few elements per row.</para>
/// </summary>
public static class Q8_0Activation
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block (2-byte fp16 d plus 32 sbytes).</summary>
    public const int BlockBytes = 34;

    /// <summary>Bytes of a row of <paramref name="n"/> elements (n a multiple of 32).</summary>
    public static int RowBytes(int n)
    {
        if (n < 0 || n % BlockSize != 0) throw new ArgumentException($"Q8_0 row length {n} is not a multiple of {BlockSize}", nameof(n));
        return n / BlockSize * BlockBytes;
    }

    /// <summary>
    /// Quantizes <paramref name="x"/> (length a multiple of 32) into <paramref name="dst"/> (<see cref="RowBytes"/> bytes),
    /// exactly as ggml's CPU backend does at run time; the work is done by <see cref="Quantized.Q8Activation.QuantizeQ8_0"/>.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> dst)
    {
        int need = RowBytes(x.Length);
        if (dst.Length < need) throw new ArgumentException($"Q8_0 row of {x.Length} elements needs {need} bytes, got {dst.Length}", nameof(dst));
        Quantized.Q8Activation.QuantizeQ8_0(x, dst[..need]);
    }

    /// <summary>Dequantizes a Q8_0 row (<c>d * qs</c>): test and debugging helper.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int need = RowBytes(dst.Length);
        if (src.Length < need) throw new ArgumentException($"Q8_0 row of {dst.Length} elements needs {need} bytes, got {src.Length}", nameof(src));
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            float d = (float)Unsafe.ReadUnaligned<Half>(ref Unsafe.AsRef(in src[b * BlockBytes]));
            for (int k = 0; k < BlockSize; k++) dst[b * BlockSize + k] = d * (sbyte)src[b * BlockBytes + 2 + k];
        }
    }
}
