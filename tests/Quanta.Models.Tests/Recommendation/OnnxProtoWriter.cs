using System.Text;

namespace Quanta.Models.Tests.Recommendation;

/// <summary>
/// Minimal ONNX ModelProto writer (protobuf wire format written by hand) for test-built models: nodes with int /
/// ints / float / string attributes, raw-data initializers, typed inputs and outputs with fixed or symbolic dims.
/// Field numbers from onnx.proto3 (ModelProto: ir_version 1, graph 7, opset_import 8; GraphProto: node 1, name 2,
/// initializer 5, input 11, output 12; NodeProto: input 1, output 2, name 3, op_type 4, attribute 5; ...).
/// </summary>
internal sealed class OnnxProtoWriter
{
    public const int Float = 1, Int8 = 3, Int64 = 7, Float16 = 10;

    private readonly List<byte[]> _nodes = [], _inits = [], _inputs = [], _outputs = [];
    private int _count;

    public void Node(string op, string[] inputs, string[] outputs, params byte[][] attributes)
    {
        var m = new MemoryStream();
        foreach (var i in inputs) Str(m, 1, i);
        foreach (var o in outputs) Str(m, 2, o);
        Str(m, 3, $"{op}_{_count++}");
        Str(m, 4, op);
        foreach (var a in attributes) Bytes(m, 5, a);
        _nodes.Add(m.ToArray());
    }

    public static byte[] AttrInt(string name, long v) { var m = new MemoryStream(); Str(m, 1, name); Tag(m, 3, 0); Varint(m, (ulong)v); Tag(m, 20, 0); Varint(m, 2); return m.ToArray(); }
    public static byte[] AttrInts(string name, params long[] v) { var m = new MemoryStream(); Str(m, 1, name); foreach (var x in v) { Tag(m, 8, 0); Varint(m, (ulong)x); } Tag(m, 20, 0); Varint(m, 7); return m.ToArray(); }

    public void Initializer(string name, int dataType, long[] dims, byte[] raw)
    {
        var m = new MemoryStream();
        foreach (var d in dims) { Tag(m, 1, 0); Varint(m, (ulong)d); }
        Tag(m, 2, 0); Varint(m, (ulong)dataType);
        Str(m, 8, name);
        Bytes(m, 9, raw);
        _inits.Add(m.ToArray());
    }

    public void Floats(string name, long[] dims, float[] v) { var b = new byte[v.Length * 4]; Buffer.BlockCopy(v, 0, b, 0, b.Length); Initializer(name, Float, dims, b); }
    public void Longs(string name, long[] dims, long[] v) { var b = new byte[v.Length * 8]; Buffer.BlockCopy(v, 0, b, 0, b.Length); Initializer(name, Int64, dims, b); }

    public void Input(string name, int elemType, params object[] dims) => _inputs.Add(ValueInfo(name, elemType, dims));
    public void Output(string name, int elemType, params object[] dims) => _outputs.Add(ValueInfo(name, elemType, dims));

    private static byte[] ValueInfo(string name, int elemType, object[] dims)
    {
        var shape = new MemoryStream();
        foreach (var d in dims)
        {
            var dim = new MemoryStream();
            if (d is string s) Str(dim, 2, s); else { Tag(dim, 1, 0); Varint(dim, (ulong)Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)); }
            Bytes(shape, 1, dim.ToArray());
        }
        var tensor = new MemoryStream();
        Tag(tensor, 1, 0); Varint(tensor, (ulong)elemType);
        Bytes(tensor, 2, shape.ToArray());
        var type = new MemoryStream();
        Bytes(type, 1, tensor.ToArray());
        var m = new MemoryStream();
        Str(m, 1, name);
        Bytes(m, 2, type.ToArray());
        return m.ToArray();
    }

    public byte[] Model(int opset)
    {
        var g = new MemoryStream();
        foreach (var n in _nodes) Bytes(g, 1, n);
        Str(g, 2, "test_graph");
        foreach (var i in _inits) Bytes(g, 5, i);
        foreach (var i in _inputs) Bytes(g, 11, i);
        foreach (var o in _outputs) Bytes(g, 12, o);
        var op = new MemoryStream();
        Str(op, 1, "");
        Tag(op, 2, 0); Varint(op, (ulong)opset);
        var m = new MemoryStream();
        Tag(m, 1, 0); Varint(m, 8);
        Str(m, 2, "quanta-tests");
        Bytes(m, 7, g.ToArray());
        Bytes(m, 8, op.ToArray());
        return m.ToArray();
    }

    private static void Tag(Stream s, int field, int wire) => Varint(s, (ulong)((field << 3) | wire));
    private static void Varint(Stream s, ulong v) { while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; } s.WriteByte((byte)v); }
    private static void Bytes(Stream s, int field, byte[] b) { Tag(s, field, 2); Varint(s, (ulong)b.Length); s.Write(b); }
    private static void Str(Stream s, int field, string v) => Bytes(s, field, Encoding.UTF8.GetBytes(v));
}
