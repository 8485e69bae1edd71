using System.Buffers.Binary;
using System.Text.Json;

namespace Quanta.Core.ModelFiles.Safetensors;

/// <summary>
/// Builds a safetensors file: tensors (raw little-endian bytes, row-major shapes) laid out back to back
/// in insertion order, an optional "__metadata__" string map, and the JSON header padded with spaces to
/// a multiple of 8 bytes (as the reference writer does). Buffered in memory; output is deterministic.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, SafetensorsDType DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, string>> _metadata = [];

    /// <summary>Adds a "__metadata__" entry.</summary>
    public SafetensorsWriter AddMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        foreach (var kv in _metadata)
            if (kv.Key == key) throw new ArgumentException($"duplicate metadata key '{key}'", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>
    /// Adds a tensor; <paramref name="data"/> must hold exactly product(<paramref name="shape"/>) x dtype-size
    /// bytes (an empty shape is a scalar). The bytes are copied.
    /// </summary>
    public SafetensorsWriter AddTensor(string name, SafetensorsDType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved", nameof(name));
        long elements = 1;
        foreach (long ne in shape)
        {
            if (ne < 0) throw new ArgumentException($"tensor '{name}' has a negative dimension", nameof(shape));
            elements = checked(elements * ne);
        }
        long bytes = checked(elements * SafetensorsDTypeInfo.Size(dtype));
        if (bytes != data.Length) throw new ArgumentException($"tensor '{name}' needs {bytes} bytes, got {data.Length}", nameof(data));
        if (!_names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(name));
        _tensors.Add((name, dtype, shape.ToArray(), data.ToArray()));
        return this;
    }

    /// <summary>The header JSON (unpadded).</summary>
    public byte[] BuildHeader()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in _metadata) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", SafetensorsDTypeInfo.Name(t.DType));
                w.WriteStartArray("shape");
                foreach (long ne in t.Shape) w.WriteNumberValue(ne);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        int padded = (header.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(header);
        for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var t in _tensors) stream.Write(t.Data);
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
