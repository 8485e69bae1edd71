using System.Buffers.Binary;
using System.IO.Compression;

namespace Quanta.Models.Tests.Vision;

/// <summary>Builds PNG files for the tests (PNG spec §5: signature, chunks with CRC-32), including hostile ones.</summary>
internal static class PngWriter
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    public static void Chunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typed = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(typed, 0);
        data.CopyTo(typed.AsSpan(4));
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc(typed));
        s.Write(len);
    }

    public static byte[] Ihdr(uint width, uint height, byte bitDepth, byte colorType)
    {
        var h = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(h, width);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4), height);
        h[8] = bitDepth;
        h[9] = colorType;
        return h;
    }

    /// <summary>A PNG with the given header whose IDAT is the zlib stream of <paramref name="rawBytes"/> zero bytes (written in chunks, never held whole).</summary>
    public static byte[] ZeroFilled(uint width, uint height, byte bitDepth, byte colorType, long rawBytes)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long left = rawBytes; left > 0; left -= zeros.Length) z.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        return Build(Ihdr(width, height, bitDepth, colorType), idat.ToArray());
    }

    /// <summary>
    /// A valid 8×8 grey PNG carrying, before IDAT, an ancillary chunk of <paramref name="type"/> ("zTXt" or "iCCP")
    /// whose compressed payload inflates to <paramref name="inflatedBytes"/> zero bytes.
    /// </summary>
    public static byte[] WithCompressedChunk(string type, long inflatedBytes)
    {
        using var payload = new MemoryStream();
        payload.Write("bomb\0\0"u8); // keyword / profile name, NUL, compression method 0
        using (var z = new ZLibStream(payload, CompressionLevel.Fastest, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long left = inflatedBytes; left > 0; left -= zeros.Length) z.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true)) z.Write(new byte[8 * 9]);
        using var s = new MemoryStream();
        s.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(s, "IHDR", Ihdr(8, 8, 8, 0));
        Chunk(s, type, payload.ToArray());
        Chunk(s, "IDAT", idat.ToArray());
        Chunk(s, "IEND", []);
        return s.ToArray();
    }

    /// <summary>An 8-bit RGB PNG of <paramref name="rgb"/> [h, w, 3] (filter 0 on every row).</summary>
    public static byte[] Rgb(byte[] rgb, int width, int height)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(rgb, y * width * 3, width * 3);
            }
        return Build(Ihdr((uint)width, (uint)height, 8, 2), idat.ToArray());
    }

    private static byte[] Build(byte[] ihdr, byte[] idat)
    {
        using var s = new MemoryStream();
        s.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(s, "IHDR", ihdr);
        Chunk(s, "IDAT", idat);
        Chunk(s, "IEND", []);
        return s.ToArray();
    }
}
