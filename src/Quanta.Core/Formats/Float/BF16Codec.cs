using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// BF16 rows: n little-endian 16-bit values, 2n bytes (see <see cref="BF16Conversion"/> for rounding and specials).
/// <see cref="Quantize"/> is the scalar reference (bit-identical to ggml's from_float_ref); <see cref="QuantizeFast"/>
/// its vectorized twin; <see cref="Dequantize"/> is bit-identical to <see cref="DequantizeReference"/>.
/// </summary>
public sealed class BF16Codec : IRowCodec
{
    /// <summary>The shared stateless instance.</summary>
    public static readonly BF16Codec Instance = new();

    /// <inheritdoc/>
    public string Name => "BF16";
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long RowBytes(int n) => 2L * n;

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst) =>
        BF16Conversion.FromSingleRowReference(src, MemoryMarshal.Cast<byte, ushort>(dst));

    /// <summary>Vectorized <see cref="Quantize"/> (same bytes).</summary>
    public static void QuantizeFast(ReadOnlySpan<float> src, Span<byte> dst) =>
        BF16Conversion.FromSingleRow(src, MemoryMarshal.Cast<byte, ushort>(dst));

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) =>
        BF16Conversion.ToSingleRowReference(MemoryMarshal.Cast<byte, ushort>(src)[..dst.Length], dst);

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        BF16Conversion.ToSingleRow(MemoryMarshal.Cast<byte, ushort>(src)[..dst.Length], dst);
}
