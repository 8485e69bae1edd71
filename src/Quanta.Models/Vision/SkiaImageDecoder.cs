using SkiaSharp;

namespace Quanta.Models.Vision;

/// <summary>
/// Decodes JPEG and PNG images with SkiaSharp (libjpeg-turbo, libpng) after checking them against
/// <see cref="ImageDecodeLimits"/>.
/// <para>Order of checks, all before any pixel buffer exists: empty input, encoded size, then
/// <see cref="ImageHeader.Check"/> (our own parser of the PNG IHDR / JPEG SOFn dimensions, with the side and pixel
/// limits), then Skia's header parse, whose format and dimensions must agree with ours. Only then is one RGBA buffer
/// of the checked size allocated and decoded into. A decode that does not complete (truncated data: Skia's
/// IncompleteInput; corrupt data: ErrorInInput / InvalidInput) is refused rather than returned partly filled. Every
/// refusal is an <see cref="InvalidImageException"/> naming the reason; nothing else escapes for bad input.</para>
/// <para>Pixels: RGB as stored, 8 bits per channel; alpha is ignored (not composited); no colour-profile conversion;
/// the EXIF orientation is not applied. Thread-safe (no shared state).</para>
/// </summary>
public sealed class SkiaImageDecoder : IImageDecoder
{
    /// <summary>Creates a decoder with <paramref name="limits"/> (default <see cref="ImageDecodeLimits.Default"/>).</summary>
    public SkiaImageDecoder(ImageDecodeLimits? limits = null)
    {
        Limits = limits ?? ImageDecodeLimits.Default;
        Limits.Validate();
    }

    /// <summary>The limits in force.</summary>
    public ImageDecodeLimits Limits { get; }

    /// <inheritdoc/>
    public (byte[] Rgb, int Width, int Height) DecodeRgb(ReadOnlySpan<byte> encoded)
    {
        using var bitmap = Decode(encoded, 0);
        return (ToRgb(bitmap), bitmap.Width, bitmap.Height);
    }

    /// <summary>
    /// Decodes and resizes to <paramref name="size"/>×<paramref name="size"/> as ML.NET's <c>ResizeImages</c> does by
    /// default (IsoCrop, centre anchor; ML.NET 3 also draws with SkiaSharp): the image is scaled by
    /// max(size / width, size / height) so that it covers the square, centred, and the overflow of the longer side is
    /// cropped; resampling is Skia's bicubic Mitchell–Netravali filter (B = C = 1/3). A JPEG whose shorter side is at
    /// least 2 × size × k for k = 8, 4 or 2 is first decoded at 1/k scale by libjpeg's DCT scaling (largest such k),
    /// which bounds memory and time for large photos and acts as an anti-aliasing prefilter. Returns interleaved RGB
    /// bytes [size, size, 3].
    /// </summary>
    public byte[] DecodeResizedRgb(ReadOnlySpan<byte> encoded, int size)
    {
        if (size < 1 || size > 4096) throw new ArgumentOutOfRangeException(nameof(size), size, "must be 1..4096");
        using var source = Decode(encoded, size);
        float scale = Math.Max((float)size / source.Width, (float)size / source.Height);
        // the destination rectangle stays fractional: truncating it to whole pixels (as ML.NET does) can leave the
        // last row or column unpainted when width × scale lands just below the size
        float dw = source.Width * scale, dh = source.Height * scale;
        float x0 = (size - dw) / 2, y0 = (size - dh) / 2;
        using var target = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(target))
        using (var image = SKImage.FromBitmap(source))
        {
            canvas.Clear(SKColors.Black);
            canvas.DrawImage(image, new SKRect(0, 0, source.Width, source.Height), new SKRect(x0, y0, x0 + dw, y0 + dh),
                new SKSamplingOptions(SKCubicResampler.Mitchell));
        }
        return ToRgb(target);
    }

    /// <summary>
    /// <see cref="DecodeResizedRgb"/> as the input <see cref="ImageFeaturizer"/> takes: float [3, size, size], channels
    /// R, G, B, values 0..255 (the ResNet preprocessing model then reorders to BGR and subtracts its mean image).
    /// </summary>
    public float[] DecodeChw(ReadOnlySpan<byte> encoded, int size) => ImageFeaturizer.ToChw(DecodeResizedRgb(encoded, size), size, size, size);

    // The checked, fully decoded image as RGBA (alpha forced opaque). targetSize > 0 allows JPEG DCT downscaling.
    private SKBitmap Decode(ReadOnlySpan<byte> encoded, int targetSize)
    {
        if (encoded.IsEmpty) throw new InvalidImageException("the image is empty (0 bytes)");
        if (encoded.Length > Limits.MaxBytes)
            throw new InvalidImageException($"the image has {encoded.Length} bytes, more than the limit of {Limits.MaxBytes}");
        var (format, width, height) = ImageHeader.Check(encoded, Limits.MaxSide, Limits.MaxPixels);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new InvalidImageException($"the {format} image is corrupt: its header cannot be parsed");
        var expected = format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
        if (codec.EncodedFormat != expected || codec.Info.Width != width || codec.Info.Height != height)
            throw new InvalidImageException($"the {format} image is corrupt: its header says {width}×{height} but the decoder reads {codec.EncodedFormat} {codec.Info.Width}×{codec.Info.Height}");
        var dims = new SKSizeI(width, height);
        if (targetSize > 0 && expected == SKEncodedImageFormat.Jpeg)
        {
            foreach (int k in (ReadOnlySpan<int>)[8, 4, 2])
            {
                var s = codec.GetScaledDimensions(1f / k);
                if (Math.Min(s.Width, s.Height) >= 2 * targetSize && s.Width <= width && s.Height <= height)
                {
                    dims = s;
                    break;
                }
            }
        }
        var info = new SKImageInfo(dims.Width, dims.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        try
        {
            if (bitmap.GetPixels() == IntPtr.Zero) throw new InvalidImageException($"no memory for a {dims.Width}×{dims.Height} image");
            var result = codec.GetPixels(info, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
                throw new InvalidImageException(result == SKCodecResult.IncompleteInput
                    ? $"the {format} image is truncated ({encoded.Length} bytes end before its last pixel row)"
                    : $"the {format} image is corrupt (decoder: {result})");
            // alpha is ignored: keep the stored RGB and make every pixel opaque (unpremultiplied = premultiplied then)
            var px = bitmap.GetPixelSpan(); // [h, w, 4] RGBA
            for (int i = 3; i < px.Length; i += 4) px[i] = 255;
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    private static byte[] ToRgb(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888) throw new InvalidOperationException($"expected RGBA pixels, got {bitmap.ColorType}");
        int w = bitmap.Width, h = bitmap.Height, stride = bitmap.RowBytes;
        ReadOnlySpan<byte> px = bitmap.GetPixelSpan(); // [h, stride] RGBA rows
        var rgb = new byte[w * h * 3]; // [h, w, 3]
        for (int y = 0; y < h; y++)
        {
            var row = px.Slice(y * stride, w * 4);
            var dst = rgb.AsSpan(y * w * 3, w * 3);
            for (int x = 0; x < w; x++)
            {
                dst[x * 3] = row[x * 4];
                dst[x * 3 + 1] = row[x * 4 + 1];
                dst[x * 3 + 2] = row[x * 4 + 2];
            }
        }
        return rgb;
    }
}
