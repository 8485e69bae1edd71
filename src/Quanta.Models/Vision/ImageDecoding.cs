using System.Buffers.Binary;

namespace Quanta.Models.Vision;

/// <summary>Decodes an encoded image (JPEG, PNG …) to interleaved RGB bytes [height, width, 3].</summary>
public interface IImageDecoder
{
    /// <summary>
    /// Decodes <paramref name="encoded"/>. Implementations must call <see cref="ImageHeader.Check"/> first so that
    /// hostile images are refused before any pixel is decoded; a truncated or corrupt image throws
    /// <see cref="InvalidImageException"/>.
    /// </summary>
    (byte[] Rgb, int Width, int Height) DecodeRgb(ReadOnlySpan<byte> encoded);
}

/// <summary>An encoded image that is refused: unknown format, truncated, corrupt, or too large (an HTTP 400).</summary>
public sealed class InvalidImageException : Exception
{
    /// <summary>Creates the error.</summary>
    public InvalidImageException() : base("invalid image") { }

    /// <summary>Creates the error.</summary>
    public InvalidImageException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public InvalidImageException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Reads the format and dimensions of a PNG (IHDR) or JPEG (first SOFn marker) from its header, without decoding,
/// and enforces size limits (default: each side at most 8192, at most 64 megapixels), so decompression bombs are
/// refused before decoding.
/// </summary>
public static class ImageHeader
{
    /// <summary>Largest accepted width or height.</summary>
    public const int MaxSide = 8192;
    /// <summary>Largest accepted pixel count.</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Format ("png" or "jpeg") and dimensions from the header; throws <see cref="InvalidImageException"/> when unreadable.</summary>
    public static (string Format, int Width, int Height) Read(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data[..8].SequenceEqual(PngSignature))
        {
            if (!data.Slice(12, 4).SequenceEqual("IHDR"u8)) throw new InvalidImageException("PNG without IHDR chunk first");
            uint w = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(16, 4)), h = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20, 4));
            if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) throw new InvalidImageException($"PNG has invalid dimensions {w}×{h}");
            return ("png", (int)w, (int)h);
        }
        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8)
        {
            int i = 2;
            while (i + 4 <= data.Length)
            {
                if (data[i] != 0xFF) throw new InvalidImageException($"JPEG marker expected at byte {i}");
                byte marker = data[i + 1];
                if (marker == 0xFF) { i++; continue; }                                  // fill byte
                if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; } // no length
                if (marker is 0xD9 or 0xDA) break;                                        // end / scan before any frame header
                int len = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 2, 2));
                if (len < 2) throw new InvalidImageException("JPEG segment with invalid length");
                bool sof = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
                if (sof)
                {
                    if (i + 9 > data.Length) break;
                    int h = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 5, 2)), w = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + 7, 2));
                    if (w == 0 || h == 0) throw new InvalidImageException($"JPEG has invalid dimensions {w}×{h}");
                    return ("jpeg", w, h);
                }
                i += 2 + len;
            }
            throw new InvalidImageException("JPEG is truncated before its frame header");
        }
        throw new InvalidImageException("not a PNG or JPEG image");
    }

    /// <summary>As <see cref="Read"/>, then refuses images above <paramref name="maxSide"/> per side or <paramref name="maxPixels"/> pixels.</summary>
    public static (string Format, int Width, int Height) Check(ReadOnlySpan<byte> data, int maxSide = MaxSide, long maxPixels = MaxPixels)
    {
        var r = Read(data);
        if (r.Width > maxSide || r.Height > maxSide || (long)r.Width * r.Height > maxPixels)
            throw new InvalidImageException($"image of {r.Width}×{r.Height} exceeds the limit ({maxSide} per side, {maxPixels} pixels)");
        return r;
    }
}
