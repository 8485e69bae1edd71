using System.Buffers.Binary;
using System.Text;

namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>
/// Protocol-buffers wire-format reader over one message's bytes (no code generation): varints,
/// 64-bit and 32-bit fixed fields and length-delimited fields. Every length is checked against the
/// bytes remaining before anything is sliced or allocated; defects throw <see cref="ModelFileException"/>
/// naming the file, the message and the byte offset. Groups (wire types 3 and 4) are rejected.
/// </summary>
internal ref struct ProtoReader
{
    public const int WireVarint = 0, WireFixed64 = 1, WireLength = 2, WireFixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _file;
    private readonly string _message;
    private readonly long _baseOffset;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data, string file, string message, long baseOffset = 0)
    {
        _data = data;
        _file = file;
        _message = message;
        _baseOffset = baseOffset;
        _pos = 0;
    }

    public readonly bool AtEnd => _pos >= _data.Length;
    public readonly int Remaining => _data.Length - _pos;
    public readonly long Offset => _baseOffset + _pos;
    public readonly string File => _file;

    public readonly ModelFileException Error(string defect) => new(_file, $"{_message} at byte {Offset}: {defect}");

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool NextField(out int field, out int wireType)
    {
        if (AtEnd) { field = 0; wireType = 0; return false; }
        ulong tag = ReadVarint();
        wireType = (int)(tag & 7);
        ulong f = tag >> 3;
        if (f == 0 || f > 536_870_911) throw Error($"invalid field number {f}");
        if (wireType is 3 or 4 or 6 or 7) throw Error($"field {f} has unsupported wire type {wireType}");
        field = (int)f;
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw Error("truncated varint");
            byte b = _data[_pos++];
            if (shift == 63 && b > 1) throw Error("varint overflows 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error("varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>An int32/enum field: protobuf writes negative values as 10-byte varints; the value must fit 32 bits.</summary>
    public int ReadInt32(string what)
    {
        long v = (long)ReadVarint();
        if (v < int.MinValue || v > int.MaxValue) throw Error($"{what} {v} does not fit 32 bits");
        return (int)v;
    }

    public uint ReadFixed32()
    {
        if (Remaining < 4) throw Error($"truncated fixed32 ({Remaining} bytes remain)");
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (Remaining < 8) throw Error($"truncated fixed64 ({Remaining} bytes remain)");
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());

    /// <summary>A length-delimited payload; the length is checked against the bytes remaining.</summary>
    public ReadOnlySpan<byte> ReadBytes(string what)
    {
        ulong len = ReadVarint();
        if (len > (ulong)Remaining) throw Error($"{what} claims {len} bytes but only {Remaining} remain");
        var span = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return span;
    }

    /// <summary>A nested message reader over the next length-delimited payload.</summary>
    public ProtoReader ReadMessage(string message)
    {
        ulong len = ReadVarint();
        if (len > (ulong)Remaining) throw Error($"{message} claims {len} bytes but only {Remaining} remain");
        var r = new ProtoReader(_data.Slice(_pos, (int)len), _file, message, Offset);
        _pos += (int)len;
        return r;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public string ReadString(string what)
    {
        long at = Offset;
        var bytes = ReadBytes(what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ModelFileException(_file, $"{_message} at byte {at}: {what} is not valid UTF-8");
        }
    }

    /// <summary>Skips a field of <paramref name="wireType"/> (unknown fields are ignored, as protobuf requires).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint: ReadVarint(); break;
            case WireFixed64: ReadFixed64(); break;
            case WireFixed32: ReadFixed32(); break;
            case WireLength: ReadBytes("skipped field"); break;
            default: throw Error($"unsupported wire type {wireType}");
        }
    }

    /// <summary>Adds one or more int64 values of a repeated field (packed or not).</summary>
    public void ReadRepeatedInt64(int wireType, List<long> into, string what)
    {
        if (wireType == WireVarint) { into.Add(ReadInt64()); return; }
        if (wireType != WireLength) throw Error($"{what} has wire type {wireType}");
        var inner = ReadMessage(what);
        while (!inner.AtEnd) into.Add(inner.ReadInt64());
    }

    /// <summary>Adds the fixed32 values of a repeated float field (packed or not).</summary>
    public void ReadRepeatedFixed32(int wireType, List<uint> into, string what)
    {
        if (wireType == WireFixed32) { into.Add(ReadFixed32()); return; }
        if (wireType != WireLength) throw Error($"{what} has wire type {wireType}");
        var inner = ReadMessage(what);
        if (inner.Remaining % 4 != 0) throw Error($"packed {what} length {inner.Remaining} is not a multiple of 4");
        while (!inner.AtEnd) into.Add(inner.ReadFixed32());
    }

    /// <summary>Adds the fixed64 values of a repeated double field (packed or not).</summary>
    public void ReadRepeatedFixed64(int wireType, List<ulong> into, string what)
    {
        if (wireType == WireFixed64) { into.Add(ReadFixed64()); return; }
        if (wireType != WireLength) throw Error($"{what} has wire type {wireType}");
        var inner = ReadMessage(what);
        if (inner.Remaining % 8 != 0) throw Error($"packed {what} length {inner.Remaining} is not a multiple of 8");
        while (!inner.AtEnd) into.Add(inner.ReadFixed64());
    }

    /// <summary>Throws unless the field has the expected wire type.</summary>
    public readonly void Expect(int field, int wireType, int expected)
    {
        if (wireType != expected) throw Error($"field {field} has wire type {wireType}, expected {expected}");
    }
}
