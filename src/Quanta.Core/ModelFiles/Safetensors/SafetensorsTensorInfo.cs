namespace Quanta.Core.ModelFiles.Safetensors;

/// <summary>
/// One tensor of a safetensors file, validated: dtype, row-major shape (last dimension contiguous, as
/// PyTorch stores it; an empty shape is a scalar) and the byte range of its data.
/// </summary>
public sealed class SafetensorsTensorInfo
{
    private readonly long[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDType dtype, long[] shape, long begin, long end, long dataStart, long elements)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        DataBegin = begin;
        DataEnd = end;
        FileOffset = dataStart + begin;
        ElementCount = elements;
    }

    /// <summary>Tensor name (unique in the file).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>Dimensions, outermost first (row-major); each is non-negative.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Start of the data relative to the data section (the byte after the JSON header).</summary>
    public long DataBegin { get; }

    /// <summary>End (exclusive) of the data relative to the data section.</summary>
    public long DataEnd { get; }

    /// <summary>Bytes of data (ElementCount x dtype size).</summary>
    public long ByteCount => DataEnd - DataBegin;

    /// <summary>Absolute offset of the data in the file.</summary>
    public long FileOffset { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", _shape)}]";
}
