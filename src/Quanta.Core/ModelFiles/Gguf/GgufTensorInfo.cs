using Quanta.Core.Formats;

namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>
/// One tensor of a GGUF file as its header describes it, already validated: shape in ggml order
/// (<see cref="Shape"/>[0] is the row length, contiguous in memory), element type, and where its
/// bytes lie. Data bounds and alignment were checked when the file was opened.
/// </summary>
public sealed class GgufTensorInfo
{
    private readonly long[] _shape;

    internal GgufTensorInfo(string name, long[] shape, GgmlType type, long offset, long dataStart, long elementCount, long byteCount)
    {
        Name = name;
        _shape = shape;
        Type = type;
        Offset = offset;
        FileOffset = dataStart + offset;
        ElementCount = elementCount;
        ByteCount = byteCount;
    }

    /// <summary>Tensor name (unique in the file, at most 63 bytes of UTF-8).</summary>
    public string Name { get; }

    /// <summary>Dimensions ne[0..rank), ne[0] fastest-varying (a row); 1 to 4 entries, each positive.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Number of dimensions (1 to 4).</summary>
    public int Rank => _shape.Length;

    /// <summary>Element type of the stored data.</summary>
    public GgmlType Type { get; }

    /// <summary>Byte offset of the data relative to the start of the data section (a multiple of the alignment).</summary>
    public long Offset { get; }

    /// <summary>Absolute byte offset of the data in the file.</summary>
    public long FileOffset { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of data: RowBytes(Type, ne[0]) x ne[1] x ne[2] x ne[3].</summary>
    public long ByteCount { get; }

    /// <summary>Number of rows (product of the dimensions after the first).</summary>
    public long RowCount => ElementCount / _shape[0];

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Type} [{string.Join(", ", _shape)}]";
}
