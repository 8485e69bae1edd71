using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Float;

/// <summary>F32 rows (ggml type 0): n little-endian float32 values, 4n bytes; conversion is a copy.</summary>
public sealed class F32Codec : IRowCodec
{
    /// <summary>The shared stateless instance.</summary>
    public static readonly F32Codec Instance = new();

    /// <inheritdoc/>
    public string Name => "F32";
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long RowBytes(int n) => 4L * n;

    /// <inheritdoc/>
    public void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => src.CopyTo(MemoryMarshal.Cast<byte, float>(dst));

    /// <inheritdoc/>
    public void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var s = MemoryMarshal.Cast<byte, float>(src)[..dst.Length];
        for (int i = 0; i < s.Length; i++) dst[i] = s[i];
    }

    /// <inheritdoc/>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
}
