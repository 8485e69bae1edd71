using System.Buffers.Binary;
using System.Text;
using Quanta.Core.Formats;

namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>
/// Builds a GGUF file (version 3 by default, or 2; little-endian): metadata of every value type, then
/// tensors given as raw bytes in any <see cref="GgmlType"/> with their ggml-order shapes. Tensor data is
/// laid out in insertion order, each start padded to the alignment (general.alignment when added as a
/// UInt32, else 32). Everything is buffered in memory until written; output is deterministic.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<(string Name, GgmlType Type, long[] Shape, byte[] Data)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates a writer for GGUF <paramref name="version"/> (2 or 3).</summary>
    public GgufWriter(uint version = 3)
    {
        if (version is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(version), version, "GGUF writer supports versions 2 and 3");
        Version = version;
    }

    /// <summary>The version written.</summary>
    public uint Version { get; }

    /// <summary>Alignment of tensor data: general.alignment when present, else 32.</summary>
    public uint Alignment
    {
        get
        {
            foreach (var kv in _metadata)
                if (kv.Key == "general.alignment" && kv.Value.Type == GgufValueType.UInt32) return kv.Value.As<uint>();
            return GgufFile.DefaultAlignment;
        }
    }

    /// <summary>Adds a metadata entry. Keys must be unique; general.alignment must be a UInt32 power of two.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_keys.Add(key)) throw new ArgumentException($"duplicate metadata key '{key}'", nameof(key));
        if (key == "general.alignment")
        {
            if (value.Type != GgufValueType.UInt32) throw new ArgumentException("general.alignment must be UInt32", nameof(value));
            uint a = value.As<uint>();
            if (a == 0 || (a & (a - 1)) != 0) throw new ArgumentException($"general.alignment {a} is not a power of two", nameof(value));
        }
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a scalar or string entry; <typeparamref name="T"/> picks the GGUF type (see <see cref="GgufValueTypeInfo.Of{T}"/>).</summary>
    public GgufWriter Add<T>(string key, T value) => Add(key, GgufValue.From(value));

    /// <summary>Adds an array entry whose element type follows <typeparamref name="T"/>.</summary>
    public GgufWriter AddArray<T>(string key, ReadOnlySpan<T> items) => Add(key, GgufValue.FromArray(GgufArray.Create(items)));

    /// <summary>
    /// Adds a tensor: <paramref name="shape"/> in ggml order (ne[0] = row length), 1 to 4 positive dimensions,
    /// ne[0] a multiple of the type's block size, and <paramref name="data"/> exactly the tensor's byte size.
    /// The bytes are copied.
    /// </summary>
    public GgufWriter AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Encoding.UTF8.GetByteCount(name) > GgufFile.MaxTensorNameBytes)
            throw new ArgumentException($"tensor name '{name}' is longer than {GgufFile.MaxTensorNameBytes} bytes", nameof(name));
        if (shape.Length is 0 or > GgufFile.MaxDims) throw new ArgumentException($"tensor '{name}' needs 1 to 4 dimensions", nameof(shape));
        foreach (long ne in shape)
            if (ne <= 0) throw new ArgumentException($"tensor '{name}' has a non-positive dimension", nameof(shape));
        long rowBytes = GgmlTypeInfo.RowBytes(type, shape[0]);
        if (rowBytes < 0) throw new ArgumentException($"tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size", nameof(shape));
        long bytes = rowBytes;
        for (int d = 1; d < shape.Length; d++) bytes = checked(bytes * shape[d]);
        if (bytes != data.Length) throw new ArgumentException($"tensor '{name}' needs {bytes} bytes, got {data.Length}", nameof(data));
        if (!_names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(name));
        _tensors.Add((name, type, shape.ToArray(), data.ToArray()));
        return this;
    }

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        uint alignment = Alignment;
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        long written = 0;
        void Bytes(ReadOnlySpan<byte> b) { w.Write(b); written += b.Length; }
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); Bytes(b); }
        void U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); Bytes(b); }
        void Str(string s) { byte[] b = Encoding.UTF8.GetBytes(s); U64((ulong)b.Length); Bytes(b); }
        void Scalar(GgufValue v)
        {
            Span<byte> b = stackalloc byte[8];
            switch (v.Type)
            {
                case GgufValueType.UInt8: b[0] = v.As<byte>(); Bytes(b[..1]); break;
                case GgufValueType.Int8: b[0] = (byte)v.As<sbyte>(); Bytes(b[..1]); break;
                case GgufValueType.Bool: b[0] = v.As<bool>() ? (byte)1 : (byte)0; Bytes(b[..1]); break;
                case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, v.As<ushort>()); Bytes(b[..2]); break;
                case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, v.As<short>()); Bytes(b[..2]); break;
                case GgufValueType.UInt32: U32(v.As<uint>()); break;
                case GgufValueType.Int32: BinaryPrimitives.WriteInt32LittleEndian(b, v.As<int>()); Bytes(b[..4]); break;
                case GgufValueType.Float32: BinaryPrimitives.WriteSingleLittleEndian(b, v.As<float>()); Bytes(b[..4]); break;
                case GgufValueType.UInt64: U64(v.As<ulong>()); break;
                case GgufValueType.Int64: BinaryPrimitives.WriteInt64LittleEndian(b, v.As<long>()); Bytes(b); break;
                case GgufValueType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(b, v.As<double>()); Bytes(b); break;
                case GgufValueType.String: Str(v.As<string>()); break;
                default: Array(v.As<GgufArray>()); break;
            }
        }
        void Array(GgufArray a)
        {
            U32((uint)a.ElementType);
            U64((ulong)a.Count);
            foreach (object item in a.Items)
            {
                GgufValue v = item switch
                {
                    byte x => GgufValue.From(x), sbyte x => GgufValue.From(x),
                    ushort x => GgufValue.From(x), short x => GgufValue.From(x),
                    uint x => GgufValue.From(x), int x => GgufValue.From(x),
                    float x => GgufValue.From(x), bool x => GgufValue.From(x),
                    ulong x => GgufValue.From(x), long x => GgufValue.From(x),
                    double x => GgufValue.From(x), string x => GgufValue.From(x),
                    _ => GgufValue.From((GgufArray)item),
                };
                Scalar(v);
            }
        }
        void Pad() { while (written % alignment != 0) Bytes([0]); }

        U32(0x46554747);
        U32(Version);
        U64((ulong)_tensors.Count);
        U64((ulong)_metadata.Count);
        foreach (var kv in _metadata)
        {
            Str(kv.Key);
            U32((uint)kv.Value.Type);
            Scalar(kv.Value);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            Str(t.Name);
            U32((uint)t.Shape.Length);
            foreach (long ne in t.Shape) U64((ulong)ne);
            U32((uint)t.Type);
            U64((ulong)offset);
            offset += t.Data.Length;
            offset += (alignment - offset % alignment) % alignment;
        }
        if (_tensors.Count > 0)
        {
            Pad();
            foreach (var t in _tensors)
            {
                Bytes(t.Data);
                Pad();
            }
        }
        w.Flush();
    }

    /// <summary>Writes the file to <paramref name="path"/> (created or replaced).</summary>
    public void WriteTo(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        WriteTo(fs);
    }

    /// <summary>The file as a byte array.</summary>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }
}
