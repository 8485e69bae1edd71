using System.Buffers.Binary;
using System.IO.Compression;

namespace Quanta.Models.Tests.Vision;

/// <summary>Minimal PNG decoder for the test images: 8-bit RGB or RGBA, non-interlaced; zlib inflate + filter reversal (PNG spec §9).</summary>
internal static class PngDecoder
{
    public static (byte[] Rgb, int Width, int Height) Decode(string path)
    {
        var f = File.ReadAllBytes(path);
        Assert.True(f.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }), $"{path} is not a PNG");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int p = 8; p < f.Length;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(p));
            string type = System.Text.Encoding.ASCII.GetString(f, p + 4, 4);
            var data = f.AsSpan(p + 8, len);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new NotSupportedException($"PNG color type {data[9]}") };
                Assert.Equal(0, data[12]);
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            p += 12 + len;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        int stride = width * channels;
        var raw = new byte[height * (stride + 1)];
        z.ReadExactly(raw);
        var img = new byte[height * stride];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            for (int x = 0; x < stride; x++)
            {
                int v = raw[y * (stride + 1) + 1 + x];
                int a = x >= channels ? img[y * stride + x - channels] : 0;
                int b = y > 0 ? img[(y - 1) * stride + x] : 0;
                int c = x >= channels && y > 0 ? img[(y - 1) * stride + x - channels] : 0;
                int pred = filter switch
                {
                    0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"filter {filter}"),
                };
                img[y * stride + x] = (byte)(v + pred);
            }
        }
        if (channels == 3) return (img, width, height);
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) { rgb[i * 3] = img[i * 4]; rgb[i * 3 + 1] = img[i * 4 + 1]; rgb[i * 3 + 2] = img[i * 4 + 2]; }
        return (rgb, width, height);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
