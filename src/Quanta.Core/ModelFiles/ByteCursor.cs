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

    // Field descriptions are composed only when an error is thrown: "what", "what of 'owner'" or
    // "what index of 'owner'", so hot loops (array elements, tokens) allocate nothing for them.
    private static string Describe(string what, string? owner, int index)
    {
        string field = index < 0 ? what : what.EndsWith('#') ? $"{what}{index}" : $"{what} {index}";
        return owner is null ? field : $"{field} of '{owner}'";
    }

    /// <summary>Throws unless <paramref name="count"/> bytes remain; the other arguments name the field.</summary>
    public readonly void Require(long count, string what, string? owner = null, int index = -1)
    {
        if (count < 0 || count > Remaining)
            throw Error($"truncated: {Describe(what, owner, index)} needs {count} bytes at offset {Position} but only {Math.Max(0, Remaining)} remain (file size {Length})");
    }

    /// <summary>The next <paramref name="count"/> bytes (count must fit an int and be available).</summary>
    public ReadOnlySpan<byte> ReadBytes(long count, string what, string? owner = null, int index = -1)
    {
        Require(count, what, owner, index);
        if (count > int.MaxValue) throw Error($"{Describe(what, owner, index)} of {count} bytes at offset {Position} is too large");
        var span = new ReadOnlySpan<byte>(_base + Position, (int)count);
        Position += count;
        return span;
    }

    public byte ReadUInt8(string what, string? owner = null, int index = -1) => ReadBytes(1, what, owner, index)[0];
    public uint ReadUInt32(string what, string? owner = null, int index = -1) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, what, owner, index));
    public int ReadInt32(string what, string? owner = null, int index = -1) => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, what, owner, index));
    public ulong ReadUInt64(string what, string? owner = null, int index = -1) => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, what, owner, index));
    public float ReadFloat32(string what, string? owner = null, int index = -1) => BinaryPrimitives.ReadSingleLittleEndian(ReadBytes(4, what, owner, index));

    /// <summary>Decodes <paramref name="count"/> bytes as strict UTF-8 (invalid sequences are a defect).</summary>
    public string ReadUtf8(long count, string what, string? owner = null, int index = -1)
    {
        long at = Position;
        ReadOnlySpan<byte> bytes = ReadBytes(count, what, owner, index);
        if (!Utf8.IsValid(bytes)) throw Error($"{Describe(what, owner, index)} at offset {at} is not valid UTF-8");
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A uint64 length followed by that many bytes of strict UTF-8; the length is checked before anything is allocated.</summary>
    public string ReadLengthPrefixedUtf8(string what, string? owner = null, int index = -1)
    {
        long at = Position;
        ulong len = ReadUInt64(what, owner, index);
        if (len > (ulong)Remaining)
            throw Error($"{Describe(what, owner, index)} at offset {at} has length {len} but only {Remaining} bytes remain");
        return ReadUtf8((long)len, what, owner, index);
    }
}
