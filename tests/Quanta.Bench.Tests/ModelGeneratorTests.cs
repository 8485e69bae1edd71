using LLama;
using LLama.Common;
using LLama.Native;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models;
using Quanta.Models.Conversion;

namespace Quanta.Bench.Tests;

public class ModelGeneratorTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _models;

    public ModelGeneratorTests(TinyModels models) => _models = models;

    [Fact]
    public void Streaming_writer_writes_what_the_buffered_writer_writes()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        byte[] Bytes(int n) { var b = new byte[n]; rng.NextBytes(b); return b; }
        GgufWriter Meta()
        {
            var w = new GgufWriter();
            w.Add("general.architecture", "llama");
            w.AddArray<string>("tokenizer.ggml.tokens", ["a", "bc", "def"]);
            w.Add("llama.block_count", 3u);
            return w;
        }
        var tensors = new (string Name, GgmlType Type, long[] Shape, byte[] Data)[]
        {
            ("a", GgmlType.F32, [3], Bytes(12)),                    // 12 bytes: the next start needs padding
            ("b", GgmlType.Q8_0, [64, 3], Bytes(3 * 68)),
            ("c", GgmlType.Q4_K, [256, 2], Bytes(2 * 144)),
            ("d", GgmlType.F16, [5, 1, 2], Bytes(20)),
        };
        var buffered = Meta();
        foreach (var t in tensors) buffered.AddTensor(t.Name, t.Type, t.Shape, t.Data);
        using var ms = new MemoryStream();
        var streaming = new StreamingGgufWriter(ms, Meta(), tensors.Select(t => new GgufTensorSlot(t.Name, t.Type, t.Shape)).ToList());
        foreach (var t in tensors)
        {
            int half = t.Data.Length / 2;   // in two chunks
            streaming.Write(t.Data.AsSpan(0, half));
            streaming.Write(t.Data.AsSpan(half));
        }
        streaming.Complete();
        byte[] expected = buffered.ToArray();
        Assert.True(expected.AsSpan().SequenceEqual(ms.ToArray()), $"seed {seed}: streamed file differs from GgufWriter's");
        Assert.Equal(expected.Length, streaming.TotalBytes);
    }

    [Fact]
    public void Streaming_writer_rejects_overruns_and_incomplete_files()
    {
        using var ms = new MemoryStream();
        var w = new StreamingGgufWriter(ms, new GgufWriter(), [new GgufTensorSlot("a", GgmlType.F32, [2])]);
        Assert.Throws<ArgumentException>(() => w.Write(new byte[12]));
        w.Write(new byte[4]);
        Assert.Throws<InvalidOperationException>(() => w.Complete());
    }

    // 8 layers of width 256 (rows divide the K-quant block), Q4_K_M: llama-quantize gives output.weight Q6_K, and
    // attn_v / ffn_down Q6_K on the "more bits" layers i < 8/8, i >= 7·8/8 or (i − 1) mod 3 = 2: layers 0, 3, 6, 7.
    private static readonly ModelShape Wide = new("tiny-wide", 8, 256, 512, 4, 2, 320, false, 10000f, 128);

    [Fact]
    public void Tensor_types_follow_llama_quantize_rules()
    {
        string path = Path.Combine(_models.Dir, "wide-q4_k_m.gguf");
        ModelGenerator.Generate(Wide, GgufQuantType.Q4_K_M, path, seed: 3);
        using var f = GgufFile.Open(path);
        Assert.Equal(15L, f.GetInteger("general.file_type"));
        Assert.Equal(2 + 1 + 8 * 9, f.Tensors.Count);
        var moreBits = new HashSet<int> { 0, 3, 6, 7 };
        foreach (var t in f.Tensors)
        {
            GgmlType expected = t.Name switch
            {
                "output.weight" => GgmlType.Q6_K,
                "token_embd.weight" => GgmlType.Q4_K,
                _ when t.Name.EndsWith("_norm.weight", StringComparison.Ordinal) => GgmlType.F32,
                _ when t.Name.Contains("attn_v", StringComparison.Ordinal) || t.Name.Contains("ffn_down", StringComparison.Ordinal)
                    => moreBits.Contains(int.Parse(t.Name.Split('.')[1])) ? GgmlType.Q6_K : GgmlType.Q4_K,
                _ => GgmlType.Q4_K,
            };
            Assert.True(expected == t.Type, $"{t.Name}: expected {expected}, file has {t.Type}");
        }
        Assert.Equal([512L, 256L], f.GetTensor("blk.5.ffn_down.weight").Shape.ToArray());
        Assert.Equal([256L, 320L], f.GetTensor("output.weight").Shape.ToArray());
    }

    [Fact]
    public void Small_rows_fall_back_like_llama_quantize()
    {
        // Width 64 does not divide the 256-block of Q4_K: llama-quantize falls back to Q5_0, and Q6_K (output) to Q8_0.
        var plan = ModelGenerator.Plan(TinyModels.Small, GgufQuantType.Q4_K_M).ToDictionary(t => t.Slot.Name, t => t.Slot.Type);
        Assert.Equal(GgmlType.Q8_0, plan["output.weight"]);
        Assert.Equal(GgmlType.Q5_0, plan["blk.1.attn_q.weight"]);
        Assert.Equal(GgmlType.F32, plan["blk.1.ffn_norm.weight"]);
        var q40 = ModelGenerator.Plan(TinyModels.Small with { TiedOutput = true }, GgufQuantType.Q4_0).ToDictionary(t => t.Slot.Name, t => t.Slot.Type);
        Assert.Equal(GgmlType.Q8_0, q40["token_embd.weight"]);   // tied head: Q6_K wanted, 64 columns fall back to Q8_0
        Assert.Equal(GgmlType.Q4_0, q40["blk.0.ffn_up.weight"]);
    }

    [Fact]
    public void Llama_cpp_and_quanta_load_and_run_a_generated_model()
    {
        string path = Path.Combine(_models.Dir, "wide-q4_0-rope.gguf");
        ModelGenerator.Generate(Wide with { TiedOutput = true, Llama3RopeFreqs = true }, GgufQuantType.Q4_0, path, seed: 5);
        var p = new ModelParams(path) { ContextSize = 64, BatchSize = 64, UBatchSize = 64, Threads = 1, BatchThreads = 1, GpuLayerCount = 0 };
        using (var weights = LLamaWeights.LoadFromFile(p))
        {
            Assert.Equal(320, weights.Vocab.Count);
            using var ctx = weights.CreateContext(p);
            var batch = new LLamaBatch();
            for (int i = 0; i < 5; i++) batch.Add(3 + i * 50, i, LLamaSeqId.Zero, i == 4);
            Assert.Equal(DecodeResult.Ok, ctx.Decode(batch));
            float[] logits = ctx.NativeHandle.GetLogitsIth(4).ToArray();
            Assert.Equal(320, logits.Length);
            Assert.All(logits, v => Assert.True(float.IsFinite(v)));
            Assert.True(logits.Max() > logits.Min(), "random weights give varied logits");
        }
        using var model = ModelLoader.Load(path);
        Assert.Equal(8, model.Config.Layers);
        Assert.True(model.Config.TiedOutput);
        using var session = model.CreateSession(new SessionOptions { ContextLength = 16, Threads = 1 });
        float[] q = session.Prefill([3, 53, 103]).ToArray();
        Assert.All(q, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Named_shapes_have_the_real_sizes()
    {
        var b1 = ModelGenerator.Plan(ModelShape.Llama32_1B, GgufQuantType.Q4_0);
        Assert.DoesNotContain(b1, t => t.Slot.Name == "output.weight");
        Assert.Equal(GgmlType.Q6_K, b1.Single(t => t.Slot.Name == "token_embd.weight").Slot.Type);
        Assert.Equal([2048L, 128256L], b1.Single(t => t.Slot.Name == "token_embd.weight").Slot.Shape);
        Assert.Equal([2048L, 512L], b1.Single(t => t.Slot.Name == "blk.15.attn_k.weight").Slot.Shape);
        Assert.Equal([32L], b1.Single(t => t.Slot.Name == "rope_freqs.weight").Slot.Shape);
        long n1 = b1.Sum(t => t.Slot.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(1_235_814_432L, n1);   // Llama-3.2-1B's parameter count (HF: 1.24B) + rope_freqs' 32
        var m160 = ModelGenerator.Plan(ModelShape.Llama160M, GgufQuantType.Q8_0);
        Assert.Equal(GgmlType.Q8_0, m160.Single(t => t.Slot.Name == "output.weight").Slot.Type);
        Assert.Equal(2 + 1 + 12 * 9, m160.Count);
    }
}
