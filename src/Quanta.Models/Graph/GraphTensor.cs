using Quanta.Core.ModelFiles.Onnx;

namespace Quanta.Models.Graph;

/// <summary>Element types the graph executor computes in. Other ONNX types are converted on load.</summary>
public enum TensorElementType
{
    /// <summary>float32 (FLOAT16, BFLOAT16 and DOUBLE are converted to it).</summary>
    Float32,
    /// <summary>int64 (every integer type is widened to it).</summary>
    Int64,
    /// <summary>Boolean.</summary>
    Bool,
}

/// <summary>
/// A dense row-major tensor of the graph executor. Exactly one of <see cref="F"/>, <see cref="L"/>, <see cref="B"/>
/// is non-null (by <see cref="Type"/>); the array may be longer than <see cref="Length"/> because intermediate
/// tensors live in pooled buffers: only the first <see cref="Length"/> elements belong to the tensor.
/// </summary>
public sealed class GraphTensor
{
    private GraphTensor(TensorElementType type, int[] shape, int length, float[]? f, long[]? l, bool[]? b)
    {
        Type = type;
        Shape = shape;
        Length = length;
        F = f;
        L = l;
        B = b;
    }

    /// <summary>Element type.</summary>
    public TensorElementType Type { get; }
    /// <summary>Dimensions (empty for a scalar).</summary>
    public int[] Shape { get; }
    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public int Length { get; }
    /// <summary>float32 storage (Length elements used) or null.</summary>
    public float[]? F { get; }
    /// <summary>int64 storage or null.</summary>
    public long[]? L { get; }
    /// <summary>bool storage or null.</summary>
    public bool[]? B { get; }

    /// <summary>The float elements; throws for other types.</summary>
    public Span<float> Floats => (F ?? throw new InvalidOperationException($"expected a float tensor, got {Type}")).AsSpan(0, Length);
    /// <summary>The int64 elements; throws for other types.</summary>
    public Span<long> Longs => (L ?? throw new InvalidOperationException($"expected an int64 tensor, got {Type}")).AsSpan(0, Length);
    /// <summary>The bool elements; throws for other types.</summary>
    public Span<bool> Bools => (B ?? throw new InvalidOperationException($"expected a bool tensor, got {Type}")).AsSpan(0, Length);

    /// <summary>Rank.</summary>
    public int Rank => Shape.Length;

    /// <summary>Element count of a shape, checked for overflow.</summary>
    public static int SizeOf(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new InvalidOperationException($"negative dimension in shape [{string.Join(", ", shape.ToArray())}]");
            n *= d;
            if (n > int.MaxValue) throw new InvalidOperationException($"shape [{string.Join(", ", shape.ToArray())}] has more than {int.MaxValue} elements");
        }
        return (int)n;
    }

    /// <summary>Wraps (no copy) float data of at least the shape's size.</summary>
    public static GraphTensor FromFloats(int[] shape, float[] data) => new(TensorElementType.Float32, shape, Check(shape, data.Length), data, null, null);
    /// <summary>Wraps int64 data.</summary>
    public static GraphTensor FromLongs(int[] shape, long[] data) => new(TensorElementType.Int64, shape, Check(shape, data.Length), null, data, null);
    /// <summary>Wraps bool data.</summary>
    public static GraphTensor FromBools(int[] shape, bool[] data) => new(TensorElementType.Bool, shape, Check(shape, data.Length), null, null, data);

    /// <summary>A fresh zeroed tensor.</summary>
    public static GraphTensor Create(TensorElementType type, int[] shape)
    {
        int n = SizeOf(shape);
        return type switch
        {
            TensorElementType.Float32 => FromFloats(shape, new float[n]),
            TensorElementType.Int64 => FromLongs(shape, new long[n]),
            _ => FromBools(shape, new bool[n]),
        };
    }

    /// <summary>A view of the same storage with another shape of equal size.</summary>
    internal GraphTensor WithShape(int[] shape) => new(Type, shape, Check(shape, Length), F, L, B);

    private static int Check(int[] shape, int available)
    {
        int n = SizeOf(shape);
        if (n > available) throw new ArgumentException($"shape [{string.Join(", ", shape)}] needs {n} elements, storage has {available}");
        return n;
    }

    /// <summary>Converts an ONNX tensor: float types to Float32, integer types to Int64, BOOL to Bool.</summary>
    public static GraphTensor FromOnnx(OnnxTensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var shape = new int[t.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (t.Dims[i] > int.MaxValue) throw new InvalidOperationException($"tensor '{t.Name}' dimension {t.Dims[i]} is too large");
            shape[i] = (int)t.Dims[i];
        }
        return t.DataType switch
        {
            OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Double => FromFloats(shape, t.ToSingles()),
            OnnxDataType.Bool => FromBools(shape, t.ToBooleans()),
            OnnxDataType.String => throw new NotSupportedException($"tensor '{t.Name}' has STRING elements (not supported by the graph executor)"),
            _ => FromLongs(shape, t.ToInt64s()),
        };
    }

    /// <summary>The elements as doubles (any type), for comparisons.</summary>
    public double Get(int i) => Type switch
    {
        TensorElementType.Float32 => F![i],
        TensorElementType.Int64 => L![i],
        _ => B![i] ? 1 : 0,
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Type}[{string.Join(", ", Shape)}]";
}
