using System.Buffers.Binary;
using System.Text;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Bench;

/// <summary>A tensor announced in a GGUF header before its data is written.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Type">Stored type.</param>
/// <param name="Shape">ggml-order dimensions (ne[0] = row length, a multiple of the type's block size).</param>
public sealed record GgufTensorSlot(string Name, GgmlType Type, long[] Shape)
{
    /// <summary>Bytes of the tensor's data.</summary>
    public long ByteCount
    {
        get
        {
            long rb = GgmlTypeInfo.RowBytes(Type, Shape[0]);
            if (rb < 0) throw new ArgumentException($"tensor '{Name}' row length {Shape[0]} is not a multiple of the {Type} block size");
            long n = rb;
            for (int d = 1; d < Shape.Length; d++) n = checked(n * Shape[d]);
            return n;
        }
    }

    /// <summary>Rows (product of the dimensions after the first).</summary>
    public long Rows
    {
        get
        {
            long n = 1;
            for (int d = 1; d < Shape.Length; d++) n *= Shape[d];
            return n;
        }
    }
}

/// <summary>
/// Writes a GGUF file without holding the tensors in memory: the header (metadata serialized by a tensor-less
/// <see cref="GgufWriter"/>, then the tensor infos with offsets computed from the announced shapes) goes out at once,
/// then <see cref="Write"/> appends each tensor's bytes in announcement order, padding every tensor start to the
/// alignment (general.alignment, else 32). <see cref="Complete"/> checks every byte was written. The output equals
/// what <see cref="GgufWriter"/> would write for the same content.
/// </summary>
public sealed class StreamingGgufWriter
{
    private readonly Stream _stream;
    private readonly IReadOnlyList<GgufTensorSlot> _tensors;
    private readonly uint _alignment;
    private int _current;
    private long _writtenInCurrent;
    private long _position;

    /// <summary>Writes the header of a file with <paramref name="metadata"/>'s entries (it must hold no tensors) and <paramref name="tensors"/>.</summary>
    public StreamingGgufWriter(Stream stream, GgufWriter metadata, IReadOnlyList<GgufTensorSlot> tensors)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        ArgumentNullException.ThrowIfNull(metadata);
        _tensors = tensors ?? throw new ArgumentNullException(nameof(tensors));
        _alignment = metadata.Alignment;
        byte[] head = metadata.ToArray();
        if (BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(8)) != 0) throw new ArgumentException("the metadata writer must hold no tensors", nameof(metadata));
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(8), (ulong)tensors.Count);
        using var ms = new MemoryStream();
        ms.Write(head);
        Span<byte> b = stackalloc byte[8];
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var t in tensors)
        {
            if (!names.Add(t.Name)) throw new ArgumentException($"duplicate tensor name '{t.Name}'", nameof(tensors));
            if (t.Shape.Length is 0 or > GgufFile.MaxDims) throw new ArgumentException($"tensor '{t.Name}' needs 1 to 4 dimensions", nameof(tensors));
            byte[] name = Encoding.UTF8.GetBytes(t.Name);
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)name.Length); ms.Write(b);
            ms.Write(name);
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)t.Shape.Length); ms.Write(b[..4]);
            foreach (long ne in t.Shape) { BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)ne); ms.Write(b); }
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)t.Type); ms.Write(b[..4]);
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)offset); ms.Write(b);
            offset += t.ByteCount;
            offset += (_alignment - offset % _alignment) % _alignment;
        }
        _stream.Write(ms.GetBuffer().AsSpan(0, (int)ms.Length));
        _position = ms.Length;
        if (tensors.Count > 0) Pad();
        TotalBytes = _position + offset;
    }

    /// <summary>Size of the finished file.</summary>
    public long TotalBytes { get; }

    /// <summary>The tensor the next <see cref="Write"/> belongs to; null when all are written.</summary>
    public GgufTensorSlot? Current => _current < _tensors.Count ? _tensors[_current] : null;

    /// <summary>Appends bytes of the current tensor; a chunk must not run past the tensor's end.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        var t = Current ?? throw new InvalidOperationException("all tensors are already written");
        long size = t.ByteCount;
        if (_writtenInCurrent + data.Length > size)
            throw new ArgumentException($"tensor '{t.Name}' holds {size} bytes; {_writtenInCurrent + data.Length} written", nameof(data));
        _stream.Write(data);
        _position += data.Length;
        _writtenInCurrent += data.Length;
        if (_writtenInCurrent == size)
        {
            _current++;
            _writtenInCurrent = 0;
            Pad();
        }
    }

    /// <summary>Checks every tensor was written in full and flushes.</summary>
    public void Complete()
    {
        if (Current is { } t) throw new InvalidOperationException($"tensor '{t.Name}' is not complete ({_writtenInCurrent} of {t.ByteCount} bytes)");
        _stream.Flush();
    }

    private void Pad()
    {
        int pad = (int)((_alignment - _position % _alignment) % _alignment);
        if (pad == 0) return;
        Span<byte> zeros = stackalloc byte[pad];
        zeros.Clear();
        _stream.Write(zeros);
        _position += pad;
    }
}
