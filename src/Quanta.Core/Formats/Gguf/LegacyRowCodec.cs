using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// Shared body of the legacy 32-element block codecs (<see cref="Q4_0Codec"/>, <see cref="Q4_1Codec"/>,
/// <see cref="Q5_0Codec"/>, <see cref="Q5_1Codec"/>): row length checks (n a multiple of 32, spans long enough),
/// the row loop of <see cref="Quantize"/> over the format's block quantizer, and the JIT-specialized
/// dequantizers (<see cref="Dequantize"/> is bit-identical to <see cref="DequantizeReference"/>).
/// Stateless, thread-safe, allocation-free.
/// </summary>
public abstract unsafe class LegacyRowCodec : IRowCodec
{
    private readonly ILegacyBlockOps _blocks;

    private protected LegacyRowCodec(ILegacyBlockOps blocks, string name)
    {
        _blocks = blocks;
        Name = name;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int BlockSize => LegacyRows.BlockSize;

    /// <inheritdoc/>
    public long RowBytes(int n) => LegacyRows.RowBytes(n, _blocks.WeightBlockBytes);

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => _blocks.Dequantize(src, dst, reference: true);

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => _blocks.Dequantize(src, dst, reference: false);

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int blockBytes = _blocks.WeightBlockBytes;
        int nb = LegacyRows.Blocks(src.Length, dst.Length, blockBytes);
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            for (int ib = 0; ib < nb; ib++) QuantizeBlock(px + (nint)ib * 32, py + (nint)ib * blockBytes);
        }
    }

    /// <summary>Quantizes the 32 floats at <paramref name="x"/> into one block at <paramref name="y"/>.</summary>
    private protected abstract void QuantizeBlock(float* x, byte* y);
}
