namespace Quanta.Models.Vision;

/// <summary>
/// Limits an encoded image must meet before any pixel is decoded (see <see cref="SkiaImageDecoder"/>): the encoded
/// size, each side and the pixel count read from the header. The pixel count bounds the decoder's one large
/// allocation (4 bytes per pixel), so a decompression bomb (a small file declaring huge dimensions) is refused up front.
/// </summary>
public sealed record ImageDecodeLimits
{
    /// <summary>Default limits: 32 MiB encoded, 8192 per side, 32 megapixels (a 128 MiB RGBA decode buffer at most).</summary>
    public static ImageDecodeLimits Default { get; } = new();

    /// <summary>Largest accepted encoded size in bytes. Default 32 MiB.</summary>
    public int MaxBytes { get; init; } = 32 << 20;

    /// <summary>Largest accepted width or height. Default 8192 (<see cref="ImageHeader.MaxSide"/>).</summary>
    public int MaxSide { get; init; } = ImageHeader.MaxSide;

    /// <summary>Largest accepted width × height. Default 32 × 2^20.</summary>
    public long MaxPixels { get; init; } = 32L << 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless every limit is positive.</summary>
    public void Validate()
    {
        if (MaxBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "must be at least 1");
        if (MaxSide < 1) throw new ArgumentOutOfRangeException(nameof(MaxSide), MaxSide, "must be at least 1");
        if (MaxPixels < 1) throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, "must be at least 1");
    }
}
