using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Quanta.Core.ModelFiles;

/// <summary>
/// Little-endian reader over a <see cref="ByteRegion"/> that checks every read against the bytes
/// remaining and reports shortfalls as <see cref="ModelFileException"/> naming the file, the field and
/// the offset. Nothing is allocated except decoded strings, whose length is checked first.
/// </summary>
internal unsafe struct ByteCursor
{
    private readonly byte* _base;

    public ByteCursor(byte* basePointer, long length, string filePath)
    {
        _base = basePointer;
        Length = length;
        FilePath = filePath;
        Position = 0;
    }

    public string FilePath { get; }
    public long Length { get; }
    public long Position { get; set; }
    public readonly long Remaining => Length - Position;

    public readonly ModelFileException Error(string defect) => new(FilePath, defect);

    /// <summary>Throws unless <paramref name="count"/> bytes remain; <paramref name="what"/> names the field.</summary>
    public readonly void Require(long count, string what)
    {
        if (count < 0 || count > Remaining)
            throw Error($"truncated: {what} needs {count} bytes at offset {Position} but only {Math.Max(0, Remaining)} remain (file size {Length})");
    }

    /// <summary>The next <paramref name="count"/> bytes (count must fit an int and be available).</summary>
    public ReadOnlySpan<byte> ReadBytes(long count, string what)
    {
        Require(count, what);
        if (count > int.MaxValue) throw Error($"{what} of {count} bytes at offset {Position} is too large");
        var span = new ReadOnlySpan<byte>(_base + Position, (int)count);
        Position += count;
        return span;
    }

    public byte ReadUInt8(string what) => ReadBytes(1, what)[0];
    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, what));
    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, what));
    public int ReadInt32(string what) => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, what));
    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, what));
    public float ReadFloat32(string what) => BinaryPrimitives.ReadSingleLittleEndian(ReadBytes(4, what));

    /// <summary>Decodes <paramref name="count"/> bytes as strict UTF-8 (invalid sequences are a defect).</summary>
    public string ReadUtf8(long count, string what)
    {
        long at = Position;
        ReadOnlySpan<byte> bytes = ReadBytes(count, what);
        if (!Utf8.IsValid(bytes)) throw Error($"{what} at offset {at} is not valid UTF-8");
        return Encoding.UTF8.GetString(bytes);
    }
}
