using System.Buffers.Binary;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// Rows of <see cref="WeightFormat.Fp8E5M2"/>: a row of n elements is 4 + n bytes,
/// <c>[float32 scale (little-endian)][n bytes of <see cref="Fp8E5M2"/> codes]</c>, and element i is
/// <c>Decode(code[i]) * scale</c>. <see cref="Quantize"/> uses a per-row (per-channel) scale amax / 57344
/// (see <see cref="Fp8Quantization"/>); a per-tensor scale is written by <see cref="Fp8Quantization.PackRows"/>
/// as the same value on every row. <see cref="Dequantize"/> is bit-identical to <see cref="DequantizeReference"/>.
/// </summary>
public sealed class Fp8E5M2Codec : IRowCodec
{
    /// <summary>The shared stateless instance.</summary>
    public static readonly Fp8E5M2Codec Instance = new();

    /// <inheritdoc/>
    public string Name => "FP8_E5M2";
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long RowBytes(int n) => 4L + n;

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (dst.Length < RowBytes(src.Length)) throw new ArgumentException("destination too small", nameof(dst));
        float scale = Fp8Quantization.ScaleFor(Fp8Quantization.AbsMax(src), Fp8Format.E5M2);
        BinaryPrimitives.WriteSingleLittleEndian(dst, scale);
        Fp8E5M2.EncodeRow(src, scale, dst.Slice(4, src.Length));
    }

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        float scale = BinaryPrimitives.ReadSingleLittleEndian(src);
        Fp8E5M2.DecodeRowReference(src.Slice(4, dst.Length), scale, dst);
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        float scale = BinaryPrimitives.ReadSingleLittleEndian(src);
        Fp8E5M2.DecodeRow(src.Slice(4, dst.Length), scale, dst);
    }
}
