using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q8_0: 32-element blocks of int8 codes with an fp16 scale, value = q * d.
/// Rows are n / 32 consecutive <see cref="BlockQ8_0"/> (34 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q8_0_ref (what llama-quantize writes, byte for byte); <see cref="DequantizeReference"/> is ggml's
/// dequantize_row_q8_0; <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q8_0Codec : IRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q8_0Codec Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "Q8_0";

    /// <inheritdoc/>
    public int BlockSize => BlockQ8_0.Elements;

    /// <inheritdoc/>
    public long RowBytes(int n) => LegacyRows.RowBytes(n, BlockQ8_0.Bytes);

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => LegacyRows.Dequantize<Q8_0Block>(src, dst, reference: true);

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => LegacyRows.Dequantize<Q8_0Block>(src, dst, reference: false);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        LegacyRows.Blocks(src.Length, dst.Length, BlockQ8_0.Bytes);
        Q8Activation.QuantizeQ8_0Reference(src, dst);
    }
}
