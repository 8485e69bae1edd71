using System.Text;

namespace Quanta.Bench.Tensor;

/// <summary>
/// Writes a small ONNX ModelProto in protobuf wire format: nodes with int / ints attributes, raw-data initializers,
/// typed graph inputs and outputs with fixed or symbolic dimensions, one default-domain opset. Field numbers are
/// onnx.proto3's (ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8; GraphProto: node 1, name 2,
/// initializer 5, input 11, output 12; NodeProto: input 1, output 2, name 3, op_type 4, attribute 5; TensorProto: dims 1,
/// data_type 2, name 8, raw_data 9; ValueInfoProto: name 1, type 2; AttributeProto: name 1, i 3, ints 8, type 20).
/// </summary>
public sealed class OnnxModelWriter
{
    /// <summary>ONNX TensorProto.DataType FLOAT.</summary>
    public const int Float = 1;
    /// <summary>ONNX TensorProto.DataType INT64.</summary>
    public const int Int64 = 7;

    private readonly List<byte[]> _nodes = [], _initializers = [], _inputs = [], _outputs = [];
    private int _count;

    /// <summary>Adds a node (named after its op type and position).</summary>
    public void Node(string op, string[] inputs, string[] outputs, params byte[][] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(attributes);
        using var m = new MemoryStream();
        foreach (var i in inputs) Str(m, 1, i);
        foreach (var o in outputs) Str(m, 2, o);
        Str(m, 3, $"{op}_{_count++}");
        Str(m, 4, op);
        foreach (var a in attributes) Bytes(m, 5, a);
        _nodes.Add(m.ToArray());
    }

    /// <summary>An INT attribute.</summary>
    public static byte[] AttrInt(string name, long value)
    {
        using var m = new MemoryStream();
        Str(m, 1, name);
        Tag(m, 3, 0);
        Varint(m, (ulong)value);
        Tag(m, 20, 0);
        Varint(m, 2);
        return m.ToArray();
    }

    /// <summary>An INTS attribute.</summary>
    public static byte[] AttrInts(string name, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var m = new MemoryStream();
        Str(m, 1, name);
        foreach (var v in values)
        {
            Tag(m, 8, 0);
            Varint(m, (ulong)v);
        }
        Tag(m, 20, 0);
        Varint(m, 7);
        return m.ToArray();
    }

    /// <summary>A float32 initializer.</summary>
    public void Floats(string name, long[] dims, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        Initializer(name, Float, dims, raw);
    }

    /// <summary>An int64 initializer.</summary>
    public void Longs(string name, long[] dims, long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var raw = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        Initializer(name, Int64, dims, raw);
    }

    private void Initializer(string name, int dataType, long[] dims, byte[] raw)
    {
        ArgumentNullException.ThrowIfNull(dims);
        using var m = new MemoryStream();
        foreach (var d in dims)
        {
            Tag(m, 1, 0);
            Varint(m, (ulong)d);
        }
        Tag(m, 2, 0);
        Varint(m, (ulong)dataType);
        Str(m, 8, name);
        Bytes(m, 9, raw);
        _initializers.Add(m.ToArray());
    }

    /// <summary>A graph input; each dimension is a long (fixed) or a string (symbolic).</summary>
    public void Input(string name, int elementType, params object[] dims) => _inputs.Add(ValueInfo(name, elementType, dims));

    /// <summary>A graph output; each dimension is a long (fixed) or a string (symbolic).</summary>
    public void Output(string name, int elementType, params object[] dims) => _outputs.Add(ValueInfo(name, elementType, dims));

    private static byte[] ValueInfo(string name, int elementType, object[] dims)
    {
        using var shape = new MemoryStream();
        foreach (var d in dims)
        {
            using var dim = new MemoryStream();
            if (d is string s) Str(dim, 2, s);
            else
            {
                Tag(dim, 1, 0);
                Varint(dim, (ulong)Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture));
            }
            Bytes(shape, 1, dim.ToArray());
        }
        using var tensor = new MemoryStream();
        Tag(tensor, 1, 0);
        Varint(tensor, (ulong)elementType);
        Bytes(tensor, 2, shape.ToArray());
        using var type = new MemoryStream();
        Bytes(type, 1, tensor.ToArray());
        using var m = new MemoryStream();
        Str(m, 1, name);
        Bytes(m, 2, type.ToArray());
        return m.ToArray();
    }

    /// <summary>The serialized model (IR version 8) with the default-domain <paramref name="opset"/>.</summary>
    public byte[] Model(int opset, string graphName = "quanta_bench")
    {
        using var g = new MemoryStream();
        foreach (var n in _nodes) Bytes(g, 1, n);
        Str(g, 2, graphName);
        foreach (var i in _initializers) Bytes(g, 5, i);
        foreach (var i in _inputs) Bytes(g, 11, i);
        foreach (var o in _outputs) Bytes(g, 12, o);
        using var op = new MemoryStream();
        Str(op, 1, "");
        Tag(op, 2, 0);
        Varint(op, (ulong)opset);
        using var m = new MemoryStream();
        Tag(m, 1, 0);
        Varint(m, 8);
        Str(m, 2, "quanta-bench");
        Bytes(m, 7, g.ToArray());
        Bytes(m, 8, op.ToArray());
        return m.ToArray();
    }

    internal static void Tag(Stream s, int field, int wire) => Varint(s, (ulong)((field << 3) | wire));

    internal static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    internal static void Bytes(Stream s, int field, ReadOnlySpan<byte> b)
    {
        Tag(s, field, 2);
        Varint(s, (ulong)b.Length);
        s.Write(b);
    }

    private static void Str(Stream s, int field, string v) => Bytes(s, field, Encoding.UTF8.GetBytes(v));
}
