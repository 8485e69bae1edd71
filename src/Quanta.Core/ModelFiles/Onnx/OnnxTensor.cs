using System.Buffers.Binary;

namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>
/// A parsed ONNX TensorProto. Whatever field the file used (raw_data or the typed repeated fields
/// float_data/int32_data/int64_data/double_data/uint64_data), numeric contents are normalized into
/// <see cref="Data"/>: <see cref="ElementCount"/> elements of <see cref="OnnxDataTypes.ElementSize"/> bytes,
/// little-endian, row-major over <see cref="Dims"/>. STRING tensors keep their elements in <see cref="StringData"/>.
/// </summary>
public sealed class OnnxTensor
{
    /// <summary>Creates a tensor; <paramref name="data"/> must hold exactly count × element-size bytes.</summary>
    public OnnxTensor(string name, OnnxDataType dataType, long[] dims, byte[] data, byte[][]? stringData = null)
    {
        ArgumentNullException.ThrowIfNull(dims);
        ArgumentNullException.ThrowIfNull(data);
        Name = name;
        DataType = dataType;
        Dims = dims;
        Data = data;
        StringData = stringData;
        long n = 1;
        foreach (long d in dims) n *= d;
        ElementCount = n;
    }

    /// <summary>Tensor name (initializer name, or empty for attribute tensors).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>Shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>Little-endian element bytes (empty for STRING tensors).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>STRING elements as raw bytes, or null for numeric tensors.</summary>
    public IReadOnlyList<byte[]>? StringData { get; }

    /// <summary>Product of the dims (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Elements converted to float32 (integers and bools by value, FLOAT16/BFLOAT16/DOUBLE rounded).</summary>
    public float[] ToSingles()
    {
        var r = new float[ElementCount];
        var s = Data.Span;
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = DataType switch
            {
                OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(s.Slice(i * 4)),
                OnnxDataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(s.Slice(i * 2)),
                OnnxDataType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(i * 2)) << 16),
                OnnxDataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(s.Slice(i * 8)),
                OnnxDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(i * 8)),
                _ => ReadInteger(s, i),
            };
        }
        return r;
    }

    /// <summary>Elements converted to int64 (floats truncated toward zero, UINT64 reinterpreted).</summary>
    public long[] ToInt64s()
    {
        var r = new long[ElementCount];
        var s = Data.Span;
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = DataType switch
            {
                OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Double => (long)ToSingleAt(s, i),
                _ => ReadInteger(s, i),
            };
        }
        return r;
    }

    /// <summary>Elements as booleans (non-zero is true).</summary>
    public bool[] ToBooleans()
    {
        var r = new bool[ElementCount];
        var s = Data.Span;
        for (int i = 0; i < r.Length; i++)
            r[i] = DataType is OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Double
                ? ToSingleAt(s, i) != 0 : ReadInteger(s, i) != 0;
        return r;
    }

    private float ToSingleAt(ReadOnlySpan<byte> s, int i) => DataType switch
    {
        OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(s.Slice(i * 4)),
        OnnxDataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(s.Slice(i * 2)),
        OnnxDataType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(i * 2)) << 16),
        _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(s.Slice(i * 8)),
    };

    private long ReadInteger(ReadOnlySpan<byte> s, int i) => DataType switch
    {
        OnnxDataType.UInt8 or OnnxDataType.Bool => s[i],
        OnnxDataType.Int8 => (sbyte)s[i],
        OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(i * 2)),
        OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(s.Slice(i * 2)),
        OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s.Slice(i * 4)),
        OnnxDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(i * 4)),
        OnnxDataType.Int64 or OnnxDataType.UInt64 => BinaryPrimitives.ReadInt64LittleEndian(s.Slice(i * 8)),
        _ => throw new InvalidOperationException($"tensor '{Name}' of type {DataType} has no numeric conversion"),
    };
}
