using CsCheck;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Onnx;
using Xunit.Abstractions;

namespace Quanta.Core.Tests.ModelFiles.Onnx;

/// <summary>ONNX protobuf reader: hand-encoded messages, defects, and mutation fuzzing over libonnx-testdata files.</summary>
public class OnnxReaderTests(ITestOutputHelper output)
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";

    private static byte[] Varint(ulong v)
    {
        var r = new List<byte>();
        do { byte b = (byte)(v & 0x7F); v >>= 7; r.Add(v != 0 ? (byte)(b | 0x80) : b); } while (v != 0);
        return r.ToArray();
    }

    private static byte[] Tag(int field, int wire) => Varint((ulong)(field << 3 | wire));
    private static byte[] Len(int field, byte[] payload) => [.. Tag(field, 2), .. Varint((ulong)payload.Length), .. payload];
    private static byte[] VarF(int field, long v) => [.. Tag(field, 0), .. Varint((ulong)v)];
    private static byte[] Str(int field, string s) => Len(field, System.Text.Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Parses_tensors_from_typed_fields_and_raw_data()
    {
        // int32_data (packed) for INT8 with a negative value, dims [3]
        byte[] packed = [.. Varint(1), .. Varint(unchecked((ulong)-2L)), .. Varint(127)];
        var t = OnnxModel.ParseTensor([.. VarF(1, 3), .. VarF(2, 3), .. Len(5, packed), .. Str(8, "a")], "t.pb");
        Assert.Equal(OnnxDataType.Int8, t.DataType);
        Assert.Equal([1L, -2, 127], t.ToInt64s());
        // float_data unpacked, dims [2]
        byte[] f = [.. VarF(1, 2), .. VarF(2, 1), .. Tag(4, 5), .. BitConverter.GetBytes(1.5f), .. Tag(4, 5), .. BitConverter.GetBytes(-2f)];
        Assert.Equal([1.5f, -2f], OnnxModel.ParseTensor(f, "f.pb").ToSingles());
        // FLOAT16 raw_data: 1.0 = 0x3C00
        var h = OnnxModel.ParseTensor([.. VarF(1, 1), .. VarF(2, 10), .. Len(9, [0x00, 0x3C])], "h.pb");
        Assert.Equal([1f], h.ToSingles());
        // BFLOAT16 via int32_data: 0x3FC0 = 1.5
        var bf = OnnxModel.ParseTensor([.. VarF(2, 16), .. Len(5, Varint(0x3FC0))], "bf.pb");
        Assert.Equal([1.5f], bf.ToSingles());
        // DOUBLE double_data packed, UINT64 uint64_data, BOOL
        Assert.Equal([0.25f], OnnxModel.ParseTensor([.. VarF(2, 11), .. Len(10, BitConverter.GetBytes(0.25))], "d.pb").ToSingles());
        Assert.Equal([long.MinValue], OnnxModel.ParseTensor([.. VarF(2, 13), .. Len(11, Varint(1UL << 63))], "u.pb").ToInt64s());
        Assert.Equal([true, false], OnnxModel.ParseTensor([.. VarF(1, 2), .. VarF(2, 9), .. Len(9, [1, 0])], "b.pb").ToBooleans());
        var s = OnnxModel.ParseTensor([.. VarF(1, 2), .. VarF(2, 8), .. Str(6, "hi"), .. Str(6, "yo")], "s.pb");
        Assert.Equal("yo", System.Text.Encoding.UTF8.GetString(s.StringData![1]));
    }

    [Fact]
    public void Parses_a_model_with_attributes_opsets_symbolic_dims_and_subgraph()
    {
        byte[] dim(string p) => Len(1, Str(2, p));
        byte[] dimv(long v) => Len(1, VarF(1, v));
        byte[] type = Len(1, [.. VarF(1, 1), .. Len(2, [.. dim("batch"), .. dimv(3)])]);
        byte[] input = [.. Str(1, "x"), .. Len(2, type)];
        byte[] sub = [.. Str(2, "body")];
        byte[] attrs = [
            .. Len(5, [.. Str(1, "alpha"), .. VarF(20, 1), .. Tag(2, 5), .. BitConverter.GetBytes(0.5f)]),
            .. Len(5, [.. Str(1, "perm"), .. VarF(20, 7), .. Len(8, [.. Varint(1), .. Varint(0)])]),
            .. Len(5, [.. Str(1, "mode"), .. VarF(20, 3), .. Str(4, "linear")]),
            .. Len(5, [.. Str(1, "g"), .. VarF(20, 5), .. Len(6, sub)]),
            .. Len(5, [.. Str(1, "t"), .. VarF(20, 4), .. Len(5, [.. VarF(2, 7), .. Len(7, Varint(9))])]),
        ];
        byte[] node = [.. Str(1, "x"), .. Str(2, "y"), .. Str(3, "n0"), .. Str(4, "Foo"), .. attrs];
        byte[] graph = [.. Len(1, node), .. Str(2, "main"), .. Len(11, input), .. Len(12, Str(1, "y")),
            .. Len(5, [.. VarF(1, 1), .. VarF(2, 1), .. Str(8, "w"), .. Len(9, BitConverter.GetBytes(3f))])];
        byte[] model = [.. VarF(1, 8), .. Len(8, [.. Str(1, ""), .. VarF(2, 17)]), .. Len(7, graph)];
        var m = OnnxModel.Parse(model, "m.onnx");
        Assert.Equal(17, m.DefaultOpset);
        var n = m.Graph.Nodes[0];
        Assert.Equal("Foo", n.OpType);
        Assert.Equal(0.5f, n.Attribute("alpha")!.F);
        Assert.Equal([1L, 0], n.Attribute("perm")!.Ints);
        Assert.Equal("linear", n.Attribute("mode")!.StringValue);
        Assert.Equal("body", n.Attribute("g")!.G!.Name);
        Assert.Equal([9L], n.Attribute("t")!.T!.ToInt64s());
        Assert.Equal(new OnnxDim(null, "batch"), m.Graph.Inputs[0].Shape![0]);
        Assert.Equal(new OnnxDim(3, null), m.Graph.Inputs[0].Shape![1]);
        Assert.Equal([3f], m.Graph.Initializers[0].ToSingles());
    }

    [Theory]
    [InlineData("truncated", "raw_data claims")]
    [InlineData("external", "external data")]
    [InlineData("rawsize", "raw_data has 4 bytes")]
    [InlineData("count", "typed elements")]
    [InlineData("negdim", "negative dimension")]
    public void Defects_throw_ModelFileException_naming_file_and_defect(string kind, string expected)
    {
        byte[] data = kind switch
        {
            "truncated" => [.. VarF(2, 1), .. Tag(9, 2), .. Varint(1000), 1, 2],
            "external" => [.. VarF(2, 1), .. VarF(14, 1), .. Str(8, "w")],
            "rawsize" => [.. VarF(1, 2), .. VarF(2, 1), .. Len(9, [1, 2, 3, 4])],
            "count" => [.. VarF(1, 3), .. VarF(2, 7), .. Len(7, Varint(1))],
            _ => [.. VarF(1, -1), .. VarF(2, 1)],
        };
        var e = Assert.Throws<ModelFileException>(() => OnnxModel.ParseTensor(data, "bad.pb"));
        Assert.Equal("bad.pb", e.FilePath);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Mutated_models_and_tensors_parse_or_throw_ModelFileException()
    {
        Assert.True(Directory.Exists(Root), $"{Root} is missing: install the Debian package libonnx-testdata");
        var corpus = new[] { "test_conv_with_strides_padding", "test_resize_upsample_scales_linear", "test_layer_normalization_2d_axis0_expanded", "test_cast_FLOAT_to_FLOAT16" }
            .SelectMany(t => new[] { Path.Combine(Root, t, "model.onnx"), Path.Combine(Root, t, "test_data_set_0", "input_0.pb") })
            .Select(f => (f, File.ReadAllBytes(f))).ToArray();
        long inputs = 0, rejected = 0, maxAlloc = 0;
        var gen = Gen.Select(Gen.Int[0, corpus.Length - 1], Mutation.Gen.Array[1, 4]);
        gen.Sample((file, mutations) =>
        {
            byte[] data = corpus[file].Item2;
            foreach (var m in mutations) data = m.Apply(data);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (corpus[file].f.EndsWith(".onnx")) OnnxModel.Parse(data, "fuzz.onnx"); else OnnxModel.ParseTensor(data, "fuzz.pb");
            }
            catch (ModelFileException)
            {
                rejected++;
            }
            long alloc = GC.GetAllocatedBytesForCurrentThread() - before;
            maxAlloc = Math.Max(maxAlloc, alloc);
            if (alloc > (16L << 20) + 16L * data.Length) throw new InvalidOperationException($"parse of {data.Length} bytes allocated {alloc}");
            inputs++;
        }, time: 3, threads: 1);
        output.WriteLine($"onnx fuzz: {inputs} inputs, {rejected} rejected, largest allocation {maxAlloc} bytes");
        Assert.True(inputs >= 500 && rejected > 0 && rejected < inputs, $"{inputs} inputs, {rejected} rejected");
    }
}
