using System.Text;

namespace Quanta.Engine.Tensor;

/// <summary>
/// A named dense row-major tensor of a request or a result. Exactly one storage array is set, by
/// <see cref="DataType"/>: FP32 → <see cref="Floats"/>, FP64 → <see cref="Doubles"/>, BOOL and integer types →
/// <see cref="Longs"/>, BYTES → <see cref="Bytes"/>; its length equals the product of <see cref="Shape"/>.
/// Instances are treated as immutable once built.
/// </summary>
public sealed class InferenceTensor
{
    private InferenceTensor(string name, TensorDataType type, int[] shape, float[]? f, double[]? d, long[]? l, byte[][]? b)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int s in shape)
        {
            if (s < 0) throw new ArgumentException($"tensor '{name}' has a negative dimension in [{string.Join(", ", shape)}]", nameof(shape));
            n *= s;
            if (n > int.MaxValue) throw new ArgumentException($"tensor '{name}' shape [{string.Join(", ", shape)}] is too large", nameof(shape));
        }
        int have = f?.Length ?? d?.Length ?? l?.Length ?? b!.Length;
        if (have != n) throw new ArgumentException($"tensor '{name}' of shape [{string.Join(", ", shape)}] needs {n} elements, got {have}");
        Name = name;
        DataType = type;
        Shape = shape;
        Floats = f;
        Doubles = d;
        Longs = l;
        Bytes = b;
    }

    /// <summary>Tensor name (an input or output name of the model).</summary>
    public string Name { get; }
    /// <summary>Element type.</summary>
    public TensorDataType DataType { get; }
    /// <summary>Dimensions (empty for a scalar).</summary>
    public int[] Shape { get; }
    /// <summary>FP32 elements or null.</summary>
    public float[]? Floats { get; }
    /// <summary>FP64 elements or null.</summary>
    public double[]? Doubles { get; }
    /// <summary>BOOL (0/1) and integer elements or null.</summary>
    public long[]? Longs { get; }
    /// <summary>BYTES elements or null.</summary>
    public byte[][]? Bytes { get; }
    /// <summary>Number of elements.</summary>
    public int ElementCount => Floats?.Length ?? Doubles?.Length ?? Longs?.Length ?? Bytes!.Length;

    /// <summary>An FP32 tensor wrapping <paramref name="data"/> (no copy).</summary>
    public static InferenceTensor FromFloats(string name, int[] shape, float[] data) =>
        new(name, TensorDataType.Fp32, shape, data ?? throw new ArgumentNullException(nameof(data)), null, null, null);

    /// <summary>An FP64 tensor wrapping <paramref name="data"/>.</summary>
    public static InferenceTensor FromDoubles(string name, int[] shape, double[] data) =>
        new(name, TensorDataType.Fp64, shape, null, data ?? throw new ArgumentNullException(nameof(data)), null, null);

    /// <summary>A BOOL or integer tensor wrapping <paramref name="data"/> (values must lie in the type's range).</summary>
    public static InferenceTensor FromLongs(string name, TensorDataType type, int[] shape, long[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!type.IsInteger()) throw new ArgumentException($"{type.ToProtocolName()} is not an integer type", nameof(type));
        var (min, max) = type.Range();
        foreach (long v in data)
            if (v < min || v > max) throw new ArgumentException($"tensor '{name}': value {v} is out of range for {type.ToProtocolName()}", nameof(data));
        return new(name, type, shape, null, null, data, null);
    }

    /// <summary>A BYTES tensor wrapping <paramref name="data"/>.</summary>
    public static InferenceTensor FromBytes(string name, int[] shape, byte[][] data) =>
        new(name, TensorDataType.Bytes, shape, null, null, null, data ?? throw new ArgumentNullException(nameof(data)));

    /// <summary>A BYTES tensor [n] of UTF-8 strings.</summary>
    public static InferenceTensor FromStrings(string name, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var b = new byte[texts.Count][];
        for (int i = 0; i < b.Length; i++) b[i] = Encoding.UTF8.GetBytes(texts[i]);
        return FromBytes(name, [b.Length], b);
    }

    /// <summary>Rows [start, start + count) along the first dimension (a copy).</summary>
    public InferenceTensor SliceRows(int start, int count)
    {
        if (Shape.Length == 0) throw new InvalidOperationException($"tensor '{Name}' is a scalar");
        if (start < 0 || count < 0 || start + count > Shape[0]) throw new ArgumentOutOfRangeException(nameof(count));
        int row = Shape[0] == 0 ? 0 : ElementCount / Shape[0];
        int[] shape = [count, .. Shape.AsSpan(1)];
        return DataType switch
        {
            TensorDataType.Fp32 => new(Name, DataType, shape, Floats.AsSpan(start * row, count * row).ToArray(), null, null, null),
            TensorDataType.Fp64 => new(Name, DataType, shape, null, Doubles.AsSpan(start * row, count * row).ToArray(), null, null),
            TensorDataType.Bytes => new(Name, DataType, shape, null, null, null, Bytes.AsSpan(start * row, count * row).ToArray()),
            _ => new(Name, DataType, shape, null, null, Longs.AsSpan(start * row, count * row).ToArray(), null),
        };
    }

    /// <summary>Concatenation along the first dimension of tensors of equal type and equal trailing dimensions.</summary>
    public static InferenceTensor ConcatRows(string name, IReadOnlyList<InferenceTensor> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        var first = parts[0];
        if (first.Shape.Length == 0) throw new ArgumentException($"tensor '{name}' is a scalar", nameof(parts));
        int rows = 0, elements = 0;
        foreach (var p in parts)
        {
            if (p.DataType != first.DataType || !p.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
                throw new ArgumentException($"tensor '{name}': cannot concatenate {p.DataType.ToProtocolName()}[{string.Join(", ", p.Shape)}] with {first.DataType.ToProtocolName()}[{string.Join(", ", first.Shape)}]", nameof(parts));
            rows += p.Shape[0];
            elements += p.ElementCount;
        }
        int[] shape = [rows, .. first.Shape.AsSpan(1)];
        switch (first.DataType)
        {
            case TensorDataType.Fp32: return new(name, first.DataType, shape, Join(parts, t => t.Floats!, elements), null, null, null);
            case TensorDataType.Fp64: return new(name, first.DataType, shape, null, Join(parts, t => t.Doubles!, elements), null, null);
            case TensorDataType.Bytes: return new(name, first.DataType, shape, null, null, null, Join(parts, t => t.Bytes!, elements));
            default: return new(name, first.DataType, shape, null, null, Join(parts, t => t.Longs!, elements), null);
        }
    }

    private static T[] Join<T>(IReadOnlyList<InferenceTensor> parts, Func<InferenceTensor, T[]> get, int total)
    {
        var r = new T[total];
        int at = 0;
        foreach (var p in parts)
        {
            var a = get(p);
            a.CopyTo(r, at);
            at += a.Length;
        }
        return r;
    }

    /// <summary>The same data under another name.</summary>
    public InferenceTensor Rename(string name) => new(name, DataType, Shape, Floats, Doubles, Longs, Bytes);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DataType.ToProtocolName()}[{string.Join(", ", Shape)}]";
}
