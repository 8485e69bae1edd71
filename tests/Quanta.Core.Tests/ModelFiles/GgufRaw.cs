using System.Text;

namespace Quanta.Core.Tests.ModelFiles;

/// <summary>Hand-assembles GGUF bytes field by field (little-endian) so tests can build defective files.</summary>
internal sealed class GgufRaw
{
    private readonly MemoryStream _ms = new();
    private readonly BinaryWriter _w;

    public GgufRaw() => _w = new BinaryWriter(_ms);

    public long Length { get { _w.Flush(); return _ms.Length; } }

    /// <summary>"GGUF", version, tensor count, metadata count.</summary>
    public GgufRaw Header(uint version, ulong tensors, ulong kvs)
    {
        _w.Write("GGUF"u8);
        _w.Write(version);
        _w.Write(tensors);
        _w.Write(kvs);
        return this;
    }

    public GgufRaw U8(byte v) { _w.Write(v); return this; }
    public GgufRaw U32(uint v) { _w.Write(v); return this; }
    public GgufRaw U64(ulong v) { _w.Write(v); return this; }
    public GgufRaw F32(float v) { _w.Write(v); return this; }
    public GgufRaw Bytes(ReadOnlySpan<byte> b) { _w.Write(b); return this; }
    public GgufRaw Str(string s) => RawStr(Encoding.UTF8.GetBytes(s));
    public GgufRaw RawStr(byte[] b) { _w.Write((ulong)b.Length); _w.Write(b); return this; }

    /// <summary>A key with a UInt32 value.</summary>
    public GgufRaw KvU32(string key, uint v) => Str(key).U32(4).U32(v);

    /// <summary>A key with a string value.</summary>
    public GgufRaw KvStr(string key, string v) => Str(key).U32(8).Str(v);

    /// <summary>A tensor info: name, dims, type id, offset.</summary>
    public GgufRaw Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (ulong d in dims) U64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to a multiple of <paramref name="alignment"/>.</summary>
    public GgufRaw Pad(int alignment = 32)
    {
        while (Length % alignment != 0) _w.Write((byte)0);
        return this;
    }

    public GgufRaw Zeros(int n) { _w.Write(new byte[n]); return this; }

    public byte[] ToArray() { _w.Flush(); return _ms.ToArray(); }
}
