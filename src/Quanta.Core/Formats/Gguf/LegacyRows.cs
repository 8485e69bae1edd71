using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>Argument checks and row loops shared by the legacy block codecs.</summary>
internal static unsafe class LegacyRows
{
    public const int BlockSize = 32;

    public static long RowBytes(int n, int blockBytes)
    {
        if (n < 0 || n % BlockSize != 0) throw new ArgumentException($"row length {n} is not a non-negative multiple of {BlockSize}", nameof(n));
        return (long)(n / BlockSize) * blockBytes;
    }

    /// <summary>Checks an F32 row of <paramref name="n"/> elements against a byte row; returns the block count.</summary>
    public static int Blocks(int n, int bytesAvailable, int blockBytes)
    {
        long need = RowBytes(n, blockBytes);
        if (bytesAvailable < need) throw new ArgumentException($"byte row holds {bytesAvailable} bytes, {need} needed for {n} elements");
        return n / BlockSize;
    }

    public static void Dequantize<TW>(ReadOnlySpan<byte> src, Span<float> dst, bool reference) where TW : struct, ILegacyWeightBlock
    {
        int nb = Blocks(dst.Length, src.Length, TW.Bytes);
        fixed (byte* s = src)
        fixed (float* d = dst)
        {
            if (reference) LegacyDequantize<TW>.Reference(s, d, nb);
            else LegacyDequantize<TW>.Run(s, d, nb);
        }
    }
}
