using Quanta.Core.Formats;
using Quanta.Core.Threading;
using Quanta.Models.Architectures;
using Quanta.Models.Architectures.Llama;
using Quanta.Models.KvCache;
using Quanta.Models.Tests.Support;

namespace Quanta.Models.Tests;

/// <summary>Registry, batch invariance, KV cache types and the no-allocation decode contract.</summary>
public sealed class ModelRuntimeTests
{
    [Fact]
    public void Registry_maps_llama_names_and_lists_supported_ones_for_unknown()
    {
        Assert.Same(LlamaArchitecture.Instance, ArchitectureRegistry.ForGguf("llama"));
        Assert.Same(LlamaArchitecture.Instance, ArchitectureRegistry.ForHuggingFace(["MistralForCausalLM"]));
        Assert.Same(LlamaArchitecture.Instance, ArchitectureRegistry.ForHuggingFace(["LlamaForCausalLM"]));
        var e = Assert.Throws<NotSupportedException>(() => ArchitectureRegistry.ForGguf("mamba"));
        Assert.Contains("'mamba'", e.Message);
        Assert.Contains("llama", e.Message);
        var h = Assert.Throws<NotSupportedException>(() => ArchitectureRegistry.ForHuggingFace(["BertModel"]));
        Assert.Contains("LlamaForCausalLM", h.Message);
    }

    private static string WriteModel(GgmlType type, string tag)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-models-rt-{tag}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        return RandomLlamaGguf.Write(new RandomLlamaSpec(type) { Layers = 1, Vocab = 512, Seed = Random.Shared.Next() }, path);
    }

    [Fact]
    public void Prefill_logits_equal_token_by_token_logits_bit_for_bit()
    {
        string path = WriteModel(GgmlType.Q4_K, "batch");
        try
        {
            using var model = ModelLoader.Load(path);
            using var pool = new WorkerPool(2);
            int v = model.Config.VocabSize, n = 20;
            int[] prompt = Enumerable.Range(0, n).Select(i => 3 + (i * 37) % (v - 3)).ToArray();
            using var a = model.CreateSession(new SessionOptions { ContextLength = 32, Pool = pool });
            var all = new float[n * v];
            a.Prefill(prompt, all);
            using var b = model.CreateSession(new SessionOptions { ContextLength = 32, Pool = pool, MaxChunk = 7 });
            b.Prefill(prompt.AsSpan(0, 7));
            for (int i = 7; i < n; i++)
            {
                ReadOnlySpan<float> l = b.Decode(prompt[i]);
                for (int j = 0; j < v; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(l[j]) == BitConverter.SingleToInt32Bits(all[i * v + j]),
                        $"position {i} logit {j}: {l[j]} vs {all[i * v + j]} (file {Path.GetFileName(path)})");
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void F16_cache_tracks_F32_cache()
    {
        string path = WriteModel(GgmlType.F32, "f16kv");
        try
        {
            using var model = ModelLoader.Load(path);
            using var pool = new WorkerPool(2);
            int v = model.Config.VocabSize;
            int[] prompt = Enumerable.Range(0, 16).Select(i => 3 + (i * 53) % (v - 3)).ToArray();
            using var s32 = model.CreateSession(new SessionOptions { ContextLength = 32, Pool = pool });
            using var s16 = model.CreateSession(new SessionOptions { ContextLength = 32, Pool = pool, KvCacheType = KvCacheType.F16 });
            float[] l32 = s32.Prefill(prompt).ToArray();
            float[] l16 = s16.Prefill(prompt).ToArray();
            float range = l32.Max() - l32.Min();
            // F16 keeps 11 significant bits: K/V relative error ≤ 2^-12, far below 1e-2 of the logit range.
            for (int j = 0; j < v; j++) Assert.True(Math.Abs(l32[j] - l16[j]) <= 1e-2f * range, $"logit {j}: {l16[j]} vs {l32[j]}");
            Assert.NotEqual(l32, l16); // the cache really stores rounded values
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Decode_does_not_allocate_after_warm_up()
    {
        string path = WriteModel(GgmlType.Q8_0, "alloc");
        try
        {
            using var model = ModelLoader.Load(path);
            using var pool = new WorkerPool(2);
            using var session = model.CreateSession(new SessionOptions { ContextLength = 64, Pool = pool });
            session.Prefill([1, 5, 9]);
            for (int i = 0; i < 3; i++) session.Decode(10 + i);   // warm-up (JIT, tiering)
            int token = 20;   // up to 5 runs of 10 decodes: 56 positions of the 64-token context
            SteadyAllocation.AssertNone(() => { for (int i = 0; i < 10; i++) session.Decode(token++); });
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Gguf_config_reads_llama_hyper_parameters()
    {
        string path = WriteModel(GgmlType.Q6_K, "config");
        try
        {
            using var model = ModelLoader.Load(path);
            ModelConfig c = model.Config;
            Assert.Equal(("llama", 1, 256, 512, 4, 2, 64, 512, 256), (c.Architecture, c.Layers, c.EmbeddingLength, c.FeedForwardLength, c.Heads, c.KvHeads, c.HeadDim, c.VocabSize, c.ContextLength));
            Assert.Equal(Quanta.Core.Kernels.Ops.RopeLayout.Normal, c.Rope.Layout);
            Assert.Equal(64, c.Rope.RotaryDims);
            Assert.False(c.TiedOutput);
            Assert.Equal(WeightFormat.Q6_K, model.Weights.Layers[0].Query.Format);
            Assert.Same(model.Gguf, model.Weights.Layers[0].Query.Owner); // zero-copy view of the mapping
        }
        finally { File.Delete(path); }
    }
}
