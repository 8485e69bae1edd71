using System.Buffers.Binary;

namespace Quanta.Core.ModelFiles.Onnx;

/// <summary>
/// Decodes ONNX messages (onnx.proto field numbers) with <see cref="ProtoReader"/>. Allocation is bounded
/// by the input: every list grows by at most one element per byte consumed, and tensor data is only
/// materialized after its length has been checked against the dims.
/// </summary>
internal static class OnnxParser
{
    private const int MaxGraphDepth = 32;

    public static OnnxModel ParseModel(ReadOnlySpan<byte> bytes, string file)
    {
        var r = new ProtoReader(bytes, file, "ModelProto");
        long ir = 0;
        string producer = "";
        var opsets = new List<OnnxOpsetImport>();
        OnnxGraph? graph = null;
        while (r.NextField(out int f, out int w))
        {
            switch (f)
            {
                case 1: r.Expect(f, w, ProtoReader.WireVarint); ir = r.ReadInt64(); break;
                case 2: r.Expect(f, w, ProtoReader.WireLength); producer = r.ReadString("producer_name"); break;
                case 7: r.Expect(f, w, ProtoReader.WireLength); var g = r.ReadMessage("GraphProto"); graph = ParseGraph(ref g, 0); break;
                case 8:
                {
                    r.Expect(f, w, ProtoReader.WireLength);
                    var o = r.ReadMessage("OperatorSetIdProto");
                    string domain = "";
                    long version = 0;
                    while (o.NextField(out int of, out int ow))
                    {
                        if (of == 1) { o.Expect(of, ow, ProtoReader.WireLength); domain = o.ReadString("domain"); }
                        else if (of == 2) { o.Expect(of, ow, ProtoReader.WireVarint); version = o.ReadInt64(); }
                        else o.Skip(ow);
                    }
                    opsets.Add(new OnnxOpsetImport(domain, version));
                    break;
                }
                default: r.Skip(w); break;
            }
        }
        if (graph is null) throw new ModelFileException(file, "ModelProto has no graph");
        return new OnnxModel { IrVersion = ir, ProducerName = producer, OpsetImports = opsets, Graph = graph };
    }

    public static OnnxTensor ParseTensorFile(ReadOnlySpan<byte> bytes, string file)
    {
        var r = new ProtoReader(bytes, file, "TensorProto");
        return ParseTensor(ref r);
    }

    private static OnnxGraph ParseGraph(ref ProtoReader r, int depth)
    {
        if (depth > MaxGraphDepth) throw r.Error($"graphs nested deeper than {MaxGraphDepth}");
        var nodes = new List<OnnxNode>();
        var inits = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var infos = new List<OnnxValueInfo>();
        string name = "";
        while (r.NextField(out int f, out int w))
        {
            switch (f)
            {
                case 1: r.Expect(f, w, 2); { var m = r.ReadMessage("NodeProto"); nodes.Add(ParseNode(ref m, depth)); } break;
                case 2: r.Expect(f, w, 2); name = r.ReadString("graph name"); break;
                case 5: r.Expect(f, w, 2); { var m = r.ReadMessage("initializer TensorProto"); inits.Add(ParseTensor(ref m)); } break;
                case 11: r.Expect(f, w, 2); { var m = r.ReadMessage("input ValueInfoProto"); inputs.Add(ParseValueInfo(ref m)); } break;
                case 12: r.Expect(f, w, 2); { var m = r.ReadMessage("output ValueInfoProto"); outputs.Add(ParseValueInfo(ref m)); } break;
                case 13: r.Expect(f, w, 2); { var m = r.ReadMessage("value_info ValueInfoProto"); infos.Add(ParseValueInfo(ref m)); } break;
                case 15: throw r.Error("sparse initializers are not supported");
                default: r.Skip(w); break;
            }
        }
        return new OnnxGraph { Name = name, Nodes = nodes, Initializers = inits, Inputs = inputs, Outputs = outputs, ValueInfos = infos };
    }

    private static OnnxNode ParseNode(ref ProtoReader r, int depth)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attrs = new List<OnnxAttribute>();
        string name = "", op = "", domain = "";
        while (r.NextField(out int f, out int w))
        {
            switch (f)
            {
                case 1: r.Expect(f, w, 2); inputs.Add(r.ReadString("input name")); break;
                case 2: r.Expect(f, w, 2); outputs.Add(r.ReadString("output name")); break;
                case 3: r.Expect(f, w, 2); name = r.ReadString("node name"); break;
                case 4: r.Expect(f, w, 2); op = r.ReadString("op_type"); break;
                case 5: r.Expect(f, w, 2); { var m = r.ReadMessage("AttributeProto"); attrs.Add(ParseAttribute(ref m, depth)); } break;
                case 7: r.Expect(f, w, 2); domain = r.ReadString("domain"); break;
                default: r.Skip(w); break;
            }
        }
        if (op.Length == 0) throw r.Error($"node '{name}' has no op_type");
        return new OnnxNode { Name = name, OpType = op, Domain = domain, Inputs = inputs, Outputs = outputs, Attributes = attrs };
    }

    private static OnnxAttribute ParseAttribute(ref ProtoReader r, int depth)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        float fv = 0;
        long iv = 0;
        byte[] s = [];
        OnnxTensor? t = null;
        OnnxGraph? g = null;
        var floats = new List<uint>();
        var ints = new List<long>();
        var strings = new List<byte[]>();
        var tensors = new List<OnnxTensor>();
        var graphs = new List<OnnxGraph>();
        var typeProtos = new List<OnnxDataType>();
        var seen = OnnxAttributeType.Undefined;
        while (r.NextField(out int f, out int w))
        {
            switch (f)
            {
                case 1: r.Expect(f, w, 2); name = r.ReadString("attribute name"); break;
                case 20: r.Expect(f, w, 0); type = (OnnxAttributeType)r.ReadInt32("attribute type"); break;
                case 2: r.Expect(f, w, 5); fv = r.ReadFloat(); seen = OnnxAttributeType.Float; break;
                case 3: r.Expect(f, w, 0); iv = r.ReadInt64(); seen = OnnxAttributeType.Int; break;
                case 4: r.Expect(f, w, 2); s = r.ReadBytes("attribute s").ToArray(); seen = OnnxAttributeType.String; break;
                case 5: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute TensorProto"); t = ParseTensor(ref m); } seen = OnnxAttributeType.Tensor; break;
                case 6: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute GraphProto"); g = ParseGraph(ref m, depth + 1); } seen = OnnxAttributeType.Graph; break;
                case 7: r.ReadRepeatedFixed32(w, floats, "attribute floats"); seen = OnnxAttributeType.Floats; break;
                case 8: r.ReadRepeatedInt64(w, ints, "attribute ints"); seen = OnnxAttributeType.Ints; break;
                case 9: r.Expect(f, w, 2); strings.Add(r.ReadBytes("attribute strings").ToArray()); seen = OnnxAttributeType.Strings; break;
                case 10: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute TensorProto"); tensors.Add(ParseTensor(ref m)); } seen = OnnxAttributeType.Tensors; break;
                case 11: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute GraphProto"); graphs.Add(ParseGraph(ref m, depth + 1)); } seen = OnnxAttributeType.Graphs; break;
                case 14: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute TypeProto"); typeProtos.Add(ParseType(ref m, out _, out _)); } seen = OnnxAttributeType.TypeProto; break;
                case 15: r.Expect(f, w, 2); { var m = r.ReadMessage("attribute TypeProto"); typeProtos.Add(ParseType(ref m, out _, out _)); } seen = OnnxAttributeType.TypeProtos; break;
                case 22 or 23: throw r.Error($"attribute '{name}' holds a sparse tensor (not supported)");
                default: r.Skip(w); break;
            }
        }
        if (type == OnnxAttributeType.Undefined) type = seen;
        if (type is < OnnxAttributeType.Undefined or > OnnxAttributeType.TypeProtos)
            throw r.Error($"attribute '{name}' has unknown type {(int)type}");
        if (type is OnnxAttributeType.SparseTensor or OnnxAttributeType.SparseTensors)
            throw r.Error($"attribute '{name}' holds a sparse tensor (not supported)");
        if (type == OnnxAttributeType.Tensor && t is null) throw r.Error($"attribute '{name}' of type TENSOR has no tensor");
        if (type == OnnxAttributeType.Graph && g is null) throw r.Error($"attribute '{name}' of type GRAPH has no graph");
        var fl = new float[floats.Count];
        for (int i = 0; i < fl.Length; i++) fl[i] = BitConverter.UInt32BitsToSingle(floats[i]);
        return new OnnxAttribute
        {
            Name = name, Type = type, F = fv, I = iv, S = s, T = t, G = g, Floats = fl, Ints = ints, Strings = strings,
            Tensors = tensors, Graphs = graphs, TypeProtos = typeProtos,
        };
    }

    private static OnnxValueInfo ParseValueInfo(ref ProtoReader r)
    {
        string name = "";
        var elem = OnnxDataType.Undefined;
        List<OnnxDim>? shape = null;
        bool isTensor = true;
        while (r.NextField(out int f, out int w))
        {
            if (f == 1) { r.Expect(f, w, 2); name = r.ReadString("value name"); }
            else if (f == 2) { r.Expect(f, w, 2); var m = r.ReadMessage("TypeProto"); elem = ParseType(ref m, out shape, out isTensor); }
            else r.Skip(w);
        }
        return new OnnxValueInfo { Name = name, ElementType = elem, Shape = shape, IsTensor = isTensor };
    }

    /// <summary>TypeProto: returns the tensor element type; shape null when absent; isTensor false for other kinds.</summary>
    private static OnnxDataType ParseType(ref ProtoReader r, out List<OnnxDim>? shape, out bool isTensor)
    {
        shape = null;
        isTensor = false;
        var elem = OnnxDataType.Undefined;
        while (r.NextField(out int f, out int w))
        {
            if (f == 1)
            {
                r.Expect(f, w, 2);
                isTensor = true;
                var t = r.ReadMessage("TypeProto.Tensor");
                while (t.NextField(out int tf, out int tw))
                {
                    if (tf == 1) { t.Expect(tf, tw, 0); elem = (OnnxDataType)t.ReadInt32("elem_type"); }
                    else if (tf == 2)
                    {
                        t.Expect(tf, tw, 2);
                        shape = [];
                        var s = t.ReadMessage("TensorShapeProto");
                        while (s.NextField(out int sf, out int sw))
                        {
                            if (sf != 1) { s.Skip(sw); continue; }
                            s.Expect(sf, sw, 2);
                            var d = s.ReadMessage("Dimension");
                            long? value = null;
                            string? param = null;
                            while (d.NextField(out int df, out int dw))
                            {
                                if (df == 1) { d.Expect(df, dw, 0); value = d.ReadInt64(); }
                                else if (df == 2) { d.Expect(df, dw, 2); param = d.ReadString("dim_param"); }
                                else d.Skip(dw);
                            }
                            shape.Add(new OnnxDim(value, param));
                        }
                    }
                    else t.Skip(tw);
                }
            }
            else r.Skip(w);
        }
        return elem;
    }

    private static OnnxTensor ParseTensor(ref ProtoReader r)
    {
        var dims = new List<long>();
        var type = OnnxDataType.Undefined;
        string name = "";
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false, external = false;
        var f32 = new List<uint>();
        var i64 = new List<long>();   // int32_data, int64_data, uint64_data (varints)
        var f64 = new List<ulong>();
        var strings = new List<byte[]>();
        int typedField = 0;
        while (r.NextField(out int f, out int w))
        {
            switch (f)
            {
                case 1: r.ReadRepeatedInt64(w, dims, "dims"); break;
                case 2: r.Expect(f, w, 0); type = (OnnxDataType)r.ReadInt32("data_type"); break;
                case 3: throw r.Error($"tensor '{name}' is segmented (not supported)");
                case 4: r.ReadRepeatedFixed32(w, f32, "float_data"); typedField = f; break;
                case 5: r.ReadRepeatedInt64(w, i64, "int32_data"); typedField = f; break;
                case 6: r.Expect(f, w, 2); strings.Add(r.ReadBytes("string_data").ToArray()); typedField = f; break;
                case 7: r.ReadRepeatedInt64(w, i64, "int64_data"); typedField = f; break;
                case 8: r.Expect(f, w, 2); name = r.ReadString("tensor name"); break;
                case 9: r.Expect(f, w, 2); raw = r.ReadBytes("raw_data"); hasRaw = true; break;
                case 10: r.ReadRepeatedFixed64(w, f64, "double_data"); typedField = f; break;
                case 11: r.ReadRepeatedInt64(w, i64, "uint64_data"); typedField = f; break;
                case 13: r.Skip(w); external = true; break;
                case 14: r.Expect(f, w, 0); if (r.ReadInt64() == 1) external = true; break;
                default: r.Skip(w); break;
            }
        }
        if (external) throw r.Error($"tensor '{name}' uses external data (not supported: save the model with the weights embedded)");
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw r.Error($"tensor '{name}' has negative dimension {d}");
            if (d != 0 && count > int.MaxValue / d) throw r.Error($"tensor '{name}' dims [{string.Join(", ", dims)}] exceed {int.MaxValue} elements");
            count *= d;
        }
        if (type == OnnxDataType.String)
        {
            if (strings.Count != count) throw r.Error($"tensor '{name}' has {strings.Count} strings but dims say {count}");
            return new OnnxTensor(name, type, dims.ToArray(), [], strings.ToArray());
        }
        int size = OnnxDataTypes.ElementSize(type);
        if (size == 0) throw r.Error($"tensor '{name}' has unsupported data type {(int)type} ({type})");
        if (hasRaw)
        {
            if (raw.Length != count * size)
                throw r.Error($"tensor '{name}' raw_data has {raw.Length} bytes but {type} [{string.Join(", ", dims)}] needs {count * size}");
            return new OnnxTensor(name, type, dims.ToArray(), raw.ToArray());
        }
        int have = typedField switch { 4 => f32.Count, 10 => f64.Count, 0 => 0, _ => i64.Count };
        if (have != count) throw r.Error($"tensor '{name}' has {have} typed elements but dims [{string.Join(", ", dims)}] say {count}");
        bool fits = (type, typedField) switch
        {
            (OnnxDataType.Float, 4) => true,
            (OnnxDataType.Double, 10) => true,
            (OnnxDataType.Int64, 7) => true,
            (OnnxDataType.UInt32 or OnnxDataType.UInt64, 11) => true,
            (OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt16 or OnnxDataType.UInt8
                or OnnxDataType.Bool or OnnxDataType.Float16 or OnnxDataType.BFloat16, 5) => true,
            (_, 0) => count == 0,
            _ => false,
        };
        if (!fits) throw r.Error($"tensor '{name}' of type {type} stores its data in the wrong field ({typedField})");
        var data = new byte[count * size];
        for (int i = 0; i < count; i++)
        {
            var dst = data.AsSpan(i * size, size);
            switch (typedField)
            {
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(dst, f32[i]); break;
                case 10: BinaryPrimitives.WriteUInt64LittleEndian(dst, f64[i]); break;
                default:
                    long v = i64[i];
                    switch (size)
                    {
                        case 1: dst[0] = (byte)v; break;
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)v); break;
                        case 4: BinaryPrimitives.WriteUInt32LittleEndian(dst, (uint)v); break;
                        default: BinaryPrimitives.WriteInt64LittleEndian(dst, v); break;
                    }
                    break;
            }
        }
        return new OnnxTensor(name, type, dims.ToArray(), data);
    }
}
