using Quanta.Models.Vision;

namespace Quanta.Engine.Tests.Tensor;

/// <summary>Header-only size checks of encoded images (hand-built headers: sizes from the format specs).</summary>
public sealed class ImageHeaderTests
{
    private static byte[] Png(uint w, uint h)
    {
        var b = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' };
        b.AddRange(BitConverter.GetBytes(w).Reverse());
        b.AddRange(BitConverter.GetBytes(h).Reverse());
        b.AddRange(new byte[] { 8, 2, 0, 0, 0, 0, 0, 0, 0 });
        return [.. b];
    }

    private static byte[] Jpeg(int w, int h, bool withApp0 = true)
    {
        var b = new List<byte> { 0xFF, 0xD8 };
        if (withApp0) b.AddRange(new byte[] { 0xFF, 0xE0, 0, 16, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0 });
        b.AddRange(new byte[] { 0xFF, 0xC0, 0, 17, 8, (byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1 });
        b.AddRange(new byte[] { 0xFF, 0xD9 });
        return [.. b];
    }

    [Fact]
    public void Png_and_jpeg_dimensions_come_from_the_header()
    {
        Assert.Equal(("png", 640, 480), ImageHeader.Check(Png(640, 480)));
        Assert.Equal(("jpeg", 1024, 768), ImageHeader.Check(Jpeg(1024, 768)));
        Assert.Equal(("jpeg", 3, 5), ImageHeader.Check(Jpeg(3, 5, withApp0: false)));
    }

    [Fact]
    public void Hostile_images_are_refused_before_decoding()
    {
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Png(8193, 10)));            // side limit
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Png(8192, 8192 + 1)));
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Png(100_000, 100_000)));     // decompression bomb
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Jpeg(65535, 65535)));
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Png(0, 10)));
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Jpeg(640, 480)[..12]));    // truncated before SOF
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check(Png(10, 10)[..20]));        // truncated IHDR
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check("GIF89a...."u8.ToArray()));
        Assert.Throws<InvalidImageException>(() => ImageHeader.Check([]));
        Assert.Equal(("png", 8192, 8192), ImageHeader.Check(Png(8192, 8192)));                   // exactly 64 MP is allowed
    }
}
