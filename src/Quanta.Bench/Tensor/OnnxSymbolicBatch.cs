using System.Text;

namespace Quanta.Bench.Tensor;

/// <summary>
/// Copies an ONNX model with its batch dimension made symbolic, for benchmarks at batch sizes a model exported with a
/// fixed batch of 1 refuses (ONNX Runtime checks inputs against the declared shapes). In the copy, the first dimension
/// of every graph input that is not an initializer and of every graph output becomes the symbolic dimension
/// <c>param</c>; the graph's value_info entries (shape hints of intermediate values, which would pin the batch to 1)
/// are dropped, so engines infer those shapes. Everything else is copied byte for byte. Works only where the graph
/// itself does not bake the batch size into a constant (e.g. a Reshape to [1, -1]); ResNet-style graphs ending in a
/// pooling are fine.
/// </summary>
public static class OnnxSymbolicBatch
{
    /// <summary>The rewritten model; throws <see cref="InvalidDataException"/> when the bytes are not a readable ModelProto.</summary>
    public static byte[] Rewrite(byte[] model, string param = "N")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(param);
        using var o = new MemoryStream(model.Length);
        bool graphSeen = false;
        foreach (var f in Fields(model))
        {
            if (f.Number == 7 && f.Wire == 2)
            {
                OnnxModelWriter.Bytes(o, 7, RewriteGraph(model.AsSpan(f.PayloadStart, f.PayloadLength).ToArray(), param));
                graphSeen = true;
            }
            else o.Write(model, f.Start, f.End - f.Start);
        }
        if (!graphSeen) throw new InvalidDataException("the model has no graph");
        return o.ToArray();
    }

    private static byte[] RewriteGraph(byte[] graph, string param)
    {
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Fields(graph))
            if (f.Number == 5 && f.Wire == 2)
                foreach (var t in Fields(graph.AsSpan(f.PayloadStart, f.PayloadLength).ToArray()))
                    if (t.Number == 8 && t.Wire == 2) initializers.Add(Name(graph, f, t));
        using var o = new MemoryStream(graph.Length);
        foreach (var f in Fields(graph))
        {
            if (f.Number == 13 && f.Wire == 2) continue; // value_info: dropped
            if ((f.Number == 11 || f.Number == 12) && f.Wire == 2)
            {
                var vi = graph.AsSpan(f.PayloadStart, f.PayloadLength).ToArray();
                string name = "";
                foreach (var t in Fields(vi))
                    if (t.Number == 1 && t.Wire == 2) name = Encoding.UTF8.GetString(vi, t.PayloadStart, t.PayloadLength);
                if (f.Number == 12 || !initializers.Contains(name))
                {
                    OnnxModelWriter.Bytes(o, f.Number, Nested(vi, [2, 1, 2], shape => FirstDimSymbolic(shape, param)));
                    continue;
                }
            }
            o.Write(graph, f.Start, f.End - f.Start);
        }
        return o.ToArray();
    }

    private static string Name(byte[] graph, Field outer, Field inner) =>
        Encoding.UTF8.GetString(graph, outer.PayloadStart + inner.PayloadStart, inner.PayloadLength);

    // Rewrites the message reached by following field numbers `path` (first occurrence at each level) with `edit`.
    private static byte[] Nested(byte[] message, ReadOnlySpan<int> path, Func<byte[], byte[]> edit)
    {
        if (path.IsEmpty) return edit(message);
        using var o = new MemoryStream(message.Length + 16);
        bool done = false;
        int[] rest = path[1..].ToArray();
        foreach (var f in Fields(message))
        {
            if (!done && f.Number == path[0] && f.Wire == 2)
            {
                OnnxModelWriter.Bytes(o, f.Number, Nested(message.AsSpan(f.PayloadStart, f.PayloadLength).ToArray(), rest, edit));
                done = true;
            }
            else o.Write(message, f.Start, f.End - f.Start);
        }
        return o.ToArray();
    }

    // TensorShapeProto: the first dim (field 1) becomes Dimension { dim_param = param }.
    private static byte[] FirstDimSymbolic(byte[] shape, string param)
    {
        using var o = new MemoryStream(shape.Length + 8);
        bool done = false;
        foreach (var f in Fields(shape))
        {
            if (!done && f.Number == 1 && f.Wire == 2)
            {
                using var dim = new MemoryStream();
                OnnxModelWriter.Bytes(dim, 2, Encoding.UTF8.GetBytes(param));
                OnnxModelWriter.Bytes(o, 1, dim.ToArray());
                done = true;
            }
            else o.Write(shape, f.Start, f.End - f.Start);
        }
        return o.ToArray();
    }

    private readonly record struct Field(int Number, int Wire, int Start, int End, int PayloadStart, int PayloadLength);

    private static List<Field> Fields(byte[] b)
    {
        var r = new List<Field>();
        int i = 0;
        while (i < b.Length)
        {
            int start = i;
            ulong tag = ReadVarint(b, ref i);
            int wire = (int)(tag & 7), number = (int)(tag >> 3);
            int payloadStart = i, payloadLength;
            switch (wire)
            {
                case 0: ReadVarint(b, ref i); payloadLength = i - payloadStart; break;
                case 1: i += 8; payloadLength = 8; break;
                case 5: i += 4; payloadLength = 4; break;
                case 2:
                    ulong len = ReadVarint(b, ref i);
                    if (len > (ulong)(b.Length - i)) throw new InvalidDataException($"protobuf field {number} at byte {start} runs past the end");
                    payloadStart = i;
                    payloadLength = (int)len;
                    i += (int)len;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire} at byte {start}");
            }
            if (i > b.Length) throw new InvalidDataException($"protobuf field {number} at byte {start} runs past the end");
            r.Add(new Field(number, wire, start, i, payloadStart, payloadLength));
        }
        return r;
    }

    private static ulong ReadVarint(byte[] b, ref int i)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (i >= b.Length) throw new InvalidDataException("protobuf varint runs past the end");
            byte x = b[i++];
            v |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80) return v;
        }
        throw new InvalidDataException("protobuf varint is too long");
    }
}
