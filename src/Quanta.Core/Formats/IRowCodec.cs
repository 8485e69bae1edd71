namespace Quanta.Core.Formats;

/// <summary>
/// Converts rows between F32 and one stored format (GGUF block formats, F16/BF16, FP8, INT8, INT4 rows).
/// Contract: <c>n</c> is a multiple of <see cref="BlockSize"/>; <see cref="RowBytes"/>(n) bytes hold n
/// elements; <see cref="Dequantize"/> is the vectorized path and must be bit-identical to
/// <see cref="DequantizeReference"/> (for the GGUF formats, also to ggml's dequantize_row_*);
/// <see cref="Quantize"/> produces the same bytes ggml's reference quantizer does for the GGUF formats.
/// Implementations are stateless, thread-safe and never allocate.
/// </summary>
public interface IRowCodec
{
    /// <summary>The format name as users see it, e.g. "Q4_K" or "FP8_E4M3".</summary>
    string Name { get; }

    /// <summary>Row length granularity in elements.</summary>
    int BlockSize { get; }

    /// <summary>Bytes that hold a row of <paramref name="n"/> elements.</summary>
    long RowBytes(int n);

    /// <summary>Scalar reference: F32 to stored bytes.</summary>
    void Quantize(ReadOnlySpan<float> src, Span<byte> dst);

    /// <summary>Scalar reference: stored bytes to F32.</summary>
    void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst);

    /// <summary>Vectorized stored bytes to F32 (Vector512 -> Vector256 -> Vector128 -> scalar dispatch).</summary>
    void Dequantize(ReadOnlySpan<byte> src, Span<float> dst);
}
