using Quanta.Core.Formats;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tests.Support;

namespace Quanta.Core.Tests.ModelFiles;

public class GgufReaderTests
{
    [Fact]
    public void Tiny_llama_tensors_and_metadata()
    {
        string path = SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf");
        using GgufFile f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(32u, f.Alignment);
        Assert.Equal(1_750_560, f.FileSize);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(8u, f.GetUInt32("llama.embedding_length"));
        Assert.Equal(1u, f.GetUInt32("llama.block_count"));
        Assert.Equal(32u, f.GetUInt32("llama.feed_forward_length"));
        Assert.Equal(2u, f.GetUInt32("llama.attention.head_count"));
        Assert.Equal(4096u, f.GetUInt32("llama.context_length"));
        Assert.Equal(4096, f.GetInteger("llama.context_length"));
        Assert.Equal(1e-5f, f.GetFloat32("llama.attention.layer_norm_rms_epsilon"), 1e-9f);
        Assert.Equal("llama", f.GetString("tokenizer.ggml.model"));
        ReadOnlySpan<string> tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        Assert.Equal(32000, tokens.Length);
        Assert.Equal("<unk>", tokens[0]);
        Assert.Equal("<s>", tokens[1]);
        Assert.Equal("</s>", tokens[2]);
        Assert.Equal("<0x00>", tokens[3]);
        Assert.Equal(32000, f.GetArray<float>("tokenizer.ggml.scores").Length);
        Assert.Equal(32000, f.GetArray<int>("tokenizer.ggml.token_type").Length);
        Assert.Equal(1u, f.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.True(f.TryGetUInt32("tokenizer.ggml.eos_token_id", out uint eos));
        Assert.Equal(2u, eos);
        Assert.False(f.TryGetString("no.such.key", out _));

        // Llama with embedding 8, 1 block, FFN 32, vocab 32000: F16 matrices and F32 norms.
        var expected = new (string Name, long[] Shape, GgmlType Type)[]
        {
            ("token_embd.weight", [8, 32000], GgmlType.F16),
            ("blk.0.attn_q.weight", [8, 8], GgmlType.F16),
            ("blk.0.attn_k.weight", [8, 8], GgmlType.F16),
            ("blk.0.attn_v.weight", [8, 8], GgmlType.F16),
            ("blk.0.attn_output.weight", [8, 8], GgmlType.F16),
            ("blk.0.ffn_gate.weight", [8, 32], GgmlType.F16),
            ("blk.0.ffn_up.weight", [8, 32], GgmlType.F16),
            ("blk.0.ffn_down.weight", [32, 8], GgmlType.F16),
            ("blk.0.attn_norm.weight", [8], GgmlType.F32),
            ("blk.0.ffn_norm.weight", [8], GgmlType.F32),
            ("output_norm.weight", [8], GgmlType.F32),
            ("output.weight", [8, 32000], GgmlType.F16),
        };
        Assert.Equal(expected.Length, f.Tensors.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            GgufTensorInfo t = f.Tensors[i];
            Assert.Equal(expected[i].Name, t.Name);
            Assert.Equal(expected[i].Shape, t.Shape.ToArray());
            Assert.Equal(expected[i].Type, t.Type);
            long elements = expected[i].Shape.Aggregate(1L, (a, b) => a * b);
            Assert.Equal(elements * (t.Type == GgmlType.F16 ? 2 : 4), t.ByteCount);
            Assert.Equal(t.ByteCount, f.GetTensorData(t).Length);
            Assert.Equal(0, t.FileOffset % 32);
        }

        // The last tensor ends exactly at the end of the file.
        GgufTensorInfo last = f.GetTensor("output.weight");
        Assert.Equal(f.FileSize, last.FileOffset + last.ByteCount);

        // The zero-copy view reads the file's bytes at the tensor offset.
        byte[] raw = File.ReadAllBytes(path);
        GgufTensorInfo norm = f.GetTensor("blk.0.attn_norm.weight");
        Assert.True(f.GetTensorData(norm).SequenceEqual(raw.AsSpan((int)norm.FileOffset, 32)));
        unsafe
        {
            byte* p = f.GetTensorPointer(norm);
            Assert.Equal(raw[norm.FileOffset], p[0]);
        }
    }

    [Fact]
    public void Missing_key_or_wrong_type_are_model_file_errors()
    {
        using GgufFile f = GgufFile.Open(SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf"));
        var missing = Assert.Throws<ModelFileException>(() => f.GetUInt32("llama.nope"));
        Assert.Contains("'llama.nope' is missing", missing.Message);
        var wrong = Assert.Throws<ModelFileException>(() => f.GetString("llama.embedding_length"));
        Assert.Contains("has type UInt32, expected String", wrong.Message);
        Assert.Throws<ModelFileException>(() => f.TryGetString("llama.embedding_length", out _));
        var arr = Assert.Throws<ModelFileException>(() => f.GetArray<uint>("tokenizer.ggml.scores"));
        Assert.Contains("array of Float32", arr.Message);
        Assert.Throws<ModelFileException>(() => f.GetTensor("nope.weight"));
    }

    [Fact]
    public void Views_are_refused_after_dispose()
    {
        GgufFile f = GgufFile.Open(SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf"));
        GgufTensorInfo t = f.Tensors[0];
        f.Dispose();
        Assert.Equal(8u, f.GetUInt32("llama.embedding_length")); // metadata outlives the mapping
        Assert.Throws<ObjectDisposedException>(() => f.GetTensorData(t).Length);
    }

    public static TheoryData<string> VocabFiles()
    {
        var data = new TheoryData<string>();
        foreach (string name in new[]
        {
            "llama-spm", "phi-3", "baichuan", "bert-bge", "gpt-2", "gpt-neox", "mpt", "falcon",
            "deepseek-coder", "deepseek-llm", "refact", "starcoder",
        }) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(VocabFiles))]
    public void Vocab_files_parse_to_the_end(string name)
    {
        string path = SharedData.Get($"testdata/llama.cpp-vocab/ggml-vocab-{name}.gguf");
        using GgufFile f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Empty(f.Tensors);
        // With no tensors the header is the whole file (possibly followed by alignment padding only).
        Assert.True(f.DataOffset >= f.FileSize && f.DataOffset - f.FileSize < f.Alignment,
            $"header ends at {f.DataOffset}, file has {f.FileSize} bytes");
        string model = f.GetString("tokenizer.ggml.model");
        Assert.Contains(model, new[] { "llama", "gpt2", "bert" });
        int vocab = f.GetArray<string>("tokenizer.ggml.tokens").Length;
        int expected = name switch
        {
            "llama-spm" => 32000, "phi-3" => 32064, "baichuan" => 64000, "bert-bge" => 30522, "gpt-2" => 50257,
            "gpt-neox" or "mpt" => 50432, "falcon" => 65024, "deepseek-coder" => 32256, "deepseek-llm" => 102400,
            "refact" => 49216, _ => 49152,
        };
        Assert.Equal(expected, vocab);
    }

    [Fact]
    public void Round_trip_preserves_every_value_type_and_tensor_bytes()
    {
        byte[] bytes = ModelFileCorpus.AllTypesGguf().ToArray();
        using GgufFile f = GgufFile.Parse(bytes, "roundtrip.gguf");
        Assert.Equal(3u, f.Version);
        Assert.Equal((byte)200, f.Get<byte>("t.u8"));
        Assert.Equal((sbyte)-100, f.Get<sbyte>("t.i8"));
        Assert.Equal((ushort)60000, f.Get<ushort>("t.u16"));
        Assert.Equal((short)-30000, f.Get<short>("t.i16"));
        Assert.Equal(4_000_000_000u, f.Get<uint>("t.u32"));
        Assert.Equal(-2_000_000_000, f.Get<int>("t.i32"));
        Assert.Equal(1.5f, f.Get<float>("t.f32"));
        Assert.True(f.Get<bool>("t.bool"));
        Assert.Equal("héllo ✓", f.Get<string>("t.string"));
        Assert.Equal(ulong.MaxValue - 1, f.Get<ulong>("t.u64"));
        Assert.Equal(long.MinValue + 1, f.Get<long>("t.i64"));
        Assert.Equal(-2.25, f.Get<double>("t.f64"));
        string[] keys = f.MetadataInOrder.Select(kv => kv.Key).ToArray();
        Assert.Equal("general.architecture", keys[0]);
        GgufValueType[] types = f.MetadataInOrder.Skip(1).Take(12).Select(kv => kv.Value.Type).ToArray();
        Assert.Equal(new[]
        {
            GgufValueType.UInt8, GgufValueType.Int8, GgufValueType.UInt16, GgufValueType.Int16, GgufValueType.UInt32,
            GgufValueType.Int32, GgufValueType.Float32, GgufValueType.Bool, GgufValueType.String, GgufValueType.UInt64,
            GgufValueType.Int64, GgufValueType.Float64,
        }, types);

        Assert.Equal(new byte[] { 1, 2, 255 }, f.GetArray<byte>("a.u8").ToArray());
        Assert.Equal(new sbyte[] { -1, 0, 1 }, f.GetArray<sbyte>("a.i8").ToArray());
        Assert.Equal(new ushort[] { 65535 }, f.GetArray<ushort>("a.u16").ToArray());
        Assert.Equal(new short[] { -2, 2 }, f.GetArray<short>("a.i16").ToArray());
        Assert.Equal(new uint[] { 7, 8, 9 }, f.GetArray<uint>("a.u32").ToArray());
        Assert.Equal(new[] { -7 }, f.GetArray<int>("a.i32").ToArray());
        Assert.Equal(new[] { 0.5f, -0.25f }, f.GetArray<float>("a.f32").ToArray());
        Assert.Equal(new[] { true, false, true }, f.GetArray<bool>("a.bool").ToArray());
        Assert.Equal(new[] { "x", "", "ü" }, f.GetArray<string>("a.string").ToArray());
        Assert.Equal(new[] { 1UL << 40 }, f.GetArray<ulong>("a.u64").ToArray());
        Assert.Equal(new[] { -(1L << 40) }, f.GetArray<long>("a.i64").ToArray());
        Assert.Equal(new[] { Math.PI }, f.GetArray<double>("a.f64").ToArray());
        ReadOnlySpan<GgufArray> nested = f.GetArray<GgufArray>("a.nested");
        Assert.Equal(3, nested.Length);
        Assert.Equal(new[] { 1, 2 }, nested[0].AsSpan<int>().ToArray());
        Assert.Equal("a", nested[1].AsSpan<string>()[0]);
        Assert.Equal((byte)9, nested[2].AsSpan<GgufArray>()[0].AsSpan<byte>()[0]);
        GgufArray first = nested[0];
        Assert.Throws<InvalidCastException>(() => first.AsSpan<uint>().Length);

        Assert.Equal(4, f.Tensors.Count);
        AssertTensor(f, "w.f32", GgmlType.F32, [4, 2], ModelFileCorpus.Pattern(32, 1));
        AssertTensor(f, "w.f16", GgmlType.F16, [8], ModelFileCorpus.Pattern(16, 2));
        AssertTensor(f, "w.q4_0", GgmlType.Q4_0, [32, 2], ModelFileCorpus.Pattern(36, 3));
        AssertTensor(f, "w.i8", GgmlType.I8, [3], ModelFileCorpus.Pattern(3, 4));
    }

    [Fact]
    public void Round_trip_v2_with_custom_alignment_through_a_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            ModelFileCorpus.AlignedV2Gguf().WriteTo(path);
            using GgufFile f = GgufFile.Open(path);
            Assert.Equal(2u, f.Version);
            Assert.Equal(64u, f.Alignment);
            Assert.Equal(0, f.DataOffset % 64);
            foreach (GgufTensorInfo t in f.Tensors) Assert.Equal(0, t.FileOffset % 64);
            AssertTensor(f, "a", GgmlType.Q8_0, [32], ModelFileCorpus.Pattern(34, 5));
            AssertTensor(f, "b", GgmlType.F32, [5, 3], ModelFileCorpus.Pattern(60, 6));
            Assert.Equal(5 * 3, f.GetTensor("b").ElementCount);
            Assert.Equal(3, f.GetTensor("b").RowCount);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Writer_rejects_inconsistent_tensors()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.Q4_0, [16], new byte[9]));      // not a block multiple
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [4], new byte[15]));       // wrong size
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        w.AddTensor("x", GgmlType.F32, [1], new byte[4]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", 48u));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(1));
    }

    private static void AssertTensor(GgufFile f, string name, GgmlType type, long[] shape, byte[] data)
    {
        GgufTensorInfo t = f.GetTensor(name);
        Assert.Equal(type, t.Type);
        Assert.Equal(shape, t.Shape.ToArray());
        Assert.Equal(data, f.GetTensorData(t).ToArray());
    }

    [Fact]
    public void A_huge_page_copy_holds_the_mapped_files_metadata_and_tensor_bytes()
    {
        string path = SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf");
        using GgufFile mapped = GgufFile.Open(path, FileResidency.Mapped);
        using GgufFile copy = GgufFile.Open(path, FileResidency.HugePages);
        Assert.Equal(mapped.FileSize, copy.FileSize);
        Assert.Equal(FileResidency.Mapped, mapped.Residency);
        Assert.Equal(FileResidency.HugePages, copy.Residency);
        Assert.Equal(mapped.GetString("general.architecture"), copy.GetString("general.architecture"));
        Assert.Equal(mapped.Tensors.Count, copy.Tensors.Count);
        Assert.True(mapped.Tensors.Count > 0);
        for (int i = 0; i < mapped.Tensors.Count; i++)
        {
            Assert.Equal(mapped.Tensors[i].Name, copy.Tensors[i].Name);
            Assert.True(mapped.GetTensorData(mapped.Tensors[i]).SequenceEqual(copy.GetTensorData(copy.Tensors[i])), mapped.Tensors[i].Name);
        }
    }

    [Fact]
    public void A_huge_page_copy_refuses_views_after_dispose_and_empty_files()
    {
        GgufFile f = GgufFile.Open(SharedData.Get("testdata/gguf/llama-2-tiny-random.gguf"), FileResidency.HugePages);
        GgufTensorInfo t = f.Tensors[0];
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.GetTensorData(t).Length);

        string empty = Path.Combine(Path.GetTempPath(), $"quanta-empty-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(empty, []);
        try { Assert.Throws<ModelFileException>(() => GgufFile.Open(empty, FileResidency.HugePages)); }
        finally { File.Delete(empty); }
    }
}
