namespace Quanta.Models.Tests.Graph;

/// <summary>
/// Rewrites an ONNX ModelProto so that the first dimension of every graph input and output is the symbolic "N" (the
/// batch) instead of a fixed value, and drops the graph's value_info (intermediate shapes recorded for batch 1).
/// Works on the protobuf wire format: ModelProto.graph (7) → GraphProto.input (11) / output (12) (value_info 13 is
/// removed) → ValueInfoProto.type (2) → TypeProto.tensor_type (1) → Tensor.shape (2) → TensorShapeProto.dim (1) →
/// Dimension.dim_value (1) / dim_param (2). Everything else is copied byte for byte.
/// </summary>
internal static class SymbolicBatch
{
    public static byte[] Rewrite(byte[] model) => Message(model, (field, body) => field == 7 ? Graph(body) : body);

    private static byte[] Graph(byte[] graph)
    {
        // Initializers (5) may also be listed as inputs (old IR versions): their shapes stay.
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        Message(graph, (f, b) => { if (f == 5) Message(b, (f2, b2) => { if (f2 == 8) initializers.Add(System.Text.Encoding.UTF8.GetString(b2)); return b2; }); return b; });
        return Message(graph, (field, body) =>
        {
            if (field == 13) return null;
            if (field is not (11 or 12)) return body;
            string name = "";
            Message(body, (f, b) => { if (f == 1) name = System.Text.Encoding.UTF8.GetString(b); return b; });
            if (initializers.Contains(name)) return body;
            return Message(body, (f, b) => f == 2 ? Message(b, (f2, b2) => f2 == 1 ? Message(b2, (f3, b3) => f3 == 2 ? Shape(b3) : b3) : b2) : b);
        });
    }

    private static byte[] Shape(byte[] shape)
    {
        bool first = true;
        return Message(shape, (f, dim) =>
        {
            if (f != 1 || !first) return dim;
            first = false;
            var m = new MemoryStream();
            Tag(m, 2, 2);
            Varint(m, 1);
            m.WriteByte((byte)'N');
            return m.ToArray();
        });
    }

    // Copies a message, passing each length-delimited field's body through map (null drops the field).
    private static byte[] Message(byte[] msg, Func<int, byte[], byte[]?> map)
    {
        var o = new MemoryStream();
        int p = 0;
        while (p < msg.Length)
        {
            int start = p;
            ulong tag = ReadVarint(msg, ref p);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: ReadVarint(msg, ref p); o.Write(msg, start, p - start); break;
                case 1: p += 8; o.Write(msg, start, p - start); break;
                case 5: p += 4; o.Write(msg, start, p - start); break;
                case 2:
                {
                    int len = checked((int)ReadVarint(msg, ref p));
                    var body = msg.AsSpan(p, len).ToArray();
                    p += len;
                    var mapped = map(field, body);
                    if (mapped is null) break;
                    Tag(o, field, 2);
                    Varint(o, (ulong)mapped.Length);
                    o.Write(mapped);
                    break;
                }
                default: throw new InvalidDataException($"protobuf wire type {wire} at byte {start}");
            }
        }
        return o.ToArray();
    }

    private static ulong ReadVarint(byte[] b, ref int p)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte x = b[p++];
            v |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80) return v;
        }
    }

    private static void Tag(MemoryStream m, int field, int wire) => Varint(m, (ulong)(field << 3 | wire));

    private static void Varint(MemoryStream m, ulong v)
    {
        while (v >= 0x80) { m.WriteByte((byte)(v | 0x80)); v >>= 7; }
        m.WriteByte((byte)v);
    }
}
