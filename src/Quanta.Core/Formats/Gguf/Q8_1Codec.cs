using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q8_1: 32-element blocks of int8 codes with fp16 scale d and fp16 s = d * sum(codes), value = q * d.
/// Rows are n / 32 consecutive <see cref="BlockQ8_1"/> (36 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q8_1_ref byte for byte (Q8_1 is an activation format: ggml_quantize_chunk does not write it);
/// <see cref="DequantizeReference"/> computes value = q * d (ggml registers no to_float for Q8_1; the formula is
/// that of its Q8_0); <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q8_1Codec : IRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q8_1Codec Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "Q8_1";

    /// <inheritdoc/>
    public int BlockSize => BlockQ8_1.Elements;

    /// <inheritdoc/>
    public long RowBytes(int n) => LegacyRows.RowBytes(n, BlockQ8_1.Bytes);

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => LegacyRows.Dequantize<Q8_1Block>(src, dst, reference: true);

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyRows.Dequantize<Q8_1Block>(src, dst, reference: false);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        LegacyRows.Blocks(src.Length, dst.Length, BlockQ8_1.Bytes);
        Q8Activation.QuantizeQ8_1Reference(src, dst);
    }
}
