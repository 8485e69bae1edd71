using System.Runtime.InteropServices;
using System.Text.Json;
using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Models.Architectures;
using Quanta.Models.Architectures.Gemma;
using Quanta.Models.Architectures.Phi3;
using Quanta.Models.Architectures.Qwen2;
using Quanta.Models.Architectures.Qwen3;
using Quanta.Models.Tests.Support;
using Quanta.Models.Weights;

namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// Registry entries, config.json hyper-parameters of the new families (values from the published configs of
/// Qwen2.5-0.5B, Qwen3-0.6B, Phi-3-mini-4k, gemma-2-2b and gemma-3-1b, expectations derived by hand), llama.cpp's
/// Gemma attention-scale rule, the zero-copy fused-matrix split, and that each architecture feature the oracle tests
/// rely on actually changes the logits of the test models (so the oracle tests would catch its absence).
/// </summary>
public sealed class ArchitectureConfigTests
{
    [Fact]
    public void Registry_maps_every_new_gguf_and_hugging_face_name()
    {
        (string gguf, string hf, IArchitecture arch)[] cases =
        [
            ("qwen2", "Qwen2ForCausalLM", Qwen2Architecture.Instance),
            ("qwen3", "Qwen3ForCausalLM", Qwen3Architecture.Instance),
            ("phi3", "Phi3ForCausalLM", Phi3Architecture.Instance),
            ("gemma2", "Gemma2ForCausalLM", Gemma2Architecture.Instance),
            ("gemma3", "Gemma3ForCausalLM", Gemma3Architecture.Instance),
        ];
        foreach (var (gguf, hf, arch) in cases)
        {
            Assert.Same(arch, ArchitectureRegistry.ForGguf(gguf));
            Assert.Same(arch, ArchitectureRegistry.ForHuggingFace([hf]));
            Assert.Equal(gguf, arch.Name);
            Assert.Contains(gguf, ArchitectureRegistry.GgufNames);
        }
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void Qwen2_config_json_has_qkv_bias_and_neox_rope()
    {
        var c = Qwen2Architecture.Instance.ReadConfig(Json("""
            {"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,"num_attention_heads":14,
             "num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
             "max_position_embeddings":32768,"tie_word_embeddings":true,"vocab_size":151936,"use_sliding_window":false}
            """));
        Assert.True(c.QkvBias);
        Assert.False(c.QkNorm);
        Assert.Equal(64, c.HeadDim);
        Assert.Equal(2, c.KvHeads);
        Assert.Equal(RopeLayout.NeoX, c.Rope.Layout);
        Assert.Equal(1e6f, c.Rope.FreqBase);
        Assert.True(c.TiedOutput);
    }

    [Fact]
    public void Qwen3_config_json_has_qk_norm_and_explicit_head_dim()
    {
        var c = Qwen3Architecture.Instance.ReadConfig(Json("""
            {"architectures":["Qwen3ForCausalLM"],"hidden_size":1024,"intermediate_size":3072,"num_attention_heads":16,
             "num_hidden_layers":28,"num_key_value_heads":8,"head_dim":128,"rms_norm_eps":1e-06,"rope_theta":1000000,
             "max_position_embeddings":40960,"tie_word_embeddings":true,"vocab_size":151936,"attention_bias":false}
            """));
        Assert.True(c.QkNorm);
        Assert.False(c.QkvBias);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(2048, c.QueryDim);
        Assert.Equal(RopeLayout.NeoX, c.Rope.Layout);
    }

    [Fact]
    public void Phi3_config_json_prescales_queries_and_rejects_longrope()
    {
        const string Common = """
            "architectures":["Phi3ForCausalLM"],"hidden_size":3072,"intermediate_size":8192,"num_attention_heads":32,
            "num_hidden_layers":32,"num_key_value_heads":32,"rms_norm_eps":1e-05,"rope_theta":10000.0,
            "max_position_embeddings":4096,"sliding_window":2047,"tie_word_embeddings":false,"vocab_size":32064
            """;
        var c = Phi3Architecture.Instance.ReadConfig(Json("{" + Common + ",\"rope_scaling\":null}"));
        Assert.True(c.ScaleQueryBeforeAttention);
        Assert.Equal(96, c.HeadDim);
        Assert.All(c.SlidingWindows, w => Assert.Equal(0, w));
        Assert.Equal(RopeLayout.NeoX, c.Rope.Layout);
        Assert.Throws<NotSupportedException>(() => Phi3Architecture.Instance.ReadConfig(Json("{" + Common +
            ",\"rope_scaling\":{\"type\":\"longrope\",\"long_factor\":[1],\"short_factor\":[1]}}")));
    }

    [Fact]
    public void Gemma2_config_json_has_softcaps_alternating_windows_and_scales()
    {
        var c = Gemma2Architecture.Instance.ReadConfig(Json("""
            {"architectures":["Gemma2ForCausalLM"],"hidden_size":2304,"intermediate_size":9216,"num_attention_heads":8,
             "num_hidden_layers":26,"num_key_value_heads":4,"head_dim":256,"rms_norm_eps":1e-06,"rope_theta":10000.0,
             "max_position_embeddings":8192,"vocab_size":256000,"query_pre_attn_scalar":256,"sliding_window":4096,
             "attn_logit_softcapping":50.0,"final_logit_softcapping":30.0,"hidden_activation":"gelu_pytorch_tanh"}
            """));
        Assert.Equal(50f, c.AttentionLogitSoftCap);
        Assert.Equal(30f, c.FinalLogitSoftCap);
        Assert.Equal(48f, c.EmbeddingScale);                // √2304
        Assert.Equal(1f / 16f, c.EffectiveAttentionScale);  // 1/√256
        Assert.True(c.ScaleQueryBeforeAttention);
        Assert.Equal(26, c.SlidingWindows.Count);
        for (int l = 0; l < 26; l++) Assert.Equal(l % 2 == 0 ? 4096 : 0, c.SlidingWindow(l));
        Assert.Equal(FeedForwardActivation.GeluTanh, c.Activation);
        Assert.True(c.PostAttentionNorm && c.PostFeedForwardNorm && c.TiedOutput);
        Assert.Throws<NotSupportedException>(() => Gemma2Architecture.Instance.ReadConfig(Json("""
            {"hidden_size":64,"intermediate_size":64,"num_attention_heads":1,"num_hidden_layers":1,"vocab_size":8,"hidden_activation":"relu"}
            """)));
    }

    [Fact]
    public void Gemma3_config_json_has_local_rope_base_and_every_sixth_layer_global()
    {
        const string Common = """
            "architectures":["Gemma3ForCausalLM"],"hidden_size":1152,"intermediate_size":6912,"num_attention_heads":4,
            "num_hidden_layers":26,"num_key_value_heads":1,"head_dim":256,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
            "rope_local_base_freq":10000.0,"max_position_embeddings":32768,"vocab_size":262144,"query_pre_attn_scalar":256,
            "sliding_window":512,"final_logit_softcapping":null,"attn_logit_softcapping":null,"hidden_activation":"gelu_pytorch_tanh"
            """;
        var c = Gemma3Architecture.Instance.ReadConfig(Json("{" + Common + ",\"sliding_window_pattern\":6}"));
        for (int l = 0; l < 26; l++)
        {
            bool global = (l + 1) % 6 == 0;
            Assert.Equal(global ? 0 : 512, c.SlidingWindow(l));
            Assert.Equal(global ? 1e6f : 10000f, c.RopeFor(l).FreqBase);
        }
        Assert.True(c.QkNorm);
        Assert.Equal(0f, c.AttentionLogitSoftCap);
        Assert.Equal(0f, c.FinalLogitSoftCap);
        Assert.Equal(1f / 16f, c.EffectiveAttentionScale);

        // the newer layer_types list wins over the pattern
        var types = string.Join(",", Enumerable.Range(0, 26).Select(l => l == 3 ? "\"full_attention\"" : "\"sliding_attention\""));
        var t = Gemma3Architecture.Instance.ReadConfig(Json("{" + Common + ",\"layer_types\":[" + types + "]}"));
        for (int l = 0; l < 26; l++) Assert.Equal(l == 3 ? 0 : 512, t.SlidingWindow(l));
    }

    [Fact]
    public void Gguf_gemma_attention_scale_follows_llama_cpp_rule_for_27B_layer_counts()
    {
        ModelConfig Config(int layers) => new()
        {
            Architecture = "gemma2", Layers = layers, EmbeddingLength = 4608, FeedForwardLength = 64, Heads = 32, KvHeads = 16,
            HeadDim = 128, VocabSize = 8, ContextLength = 8, Rope = new RopeParameters(128, RopeLayout.NeoX),
        };
        Assert.Equal(1f / 12f, GemmaConventions.GgufAttentionScale(Config(46), layers27B: 46));            // 1/√(4608/32)
        Assert.Equal(1f / MathF.Sqrt(128f), GemmaConventions.GgufAttentionScale(Config(42), layers27B: 46)); // 1/√HeadDim
    }

    [Fact]
    public void Fused_matrix_split_views_the_right_rows()
    {
        const int Rows = 7, Cols = 64;
        var values = new float[Rows * Cols];
        var rng = new Random(5);
        for (int i = 0; i < values.Length; i++) values[i] = (float)rng.NextDouble() - 0.5f;
        IRowCodec codec = CodecRegistry.For(WeightFormat.Q8_0);
        int rb = (int)codec.RowBytes(Cols);
        using var region = new Quanta.Core.Memory.NativeBuffer(rb * Rows);
        for (int r = 0; r < Rows; r++) codec.Quantize(values.AsSpan(r * Cols, Cols), region.Write(r * rb, rb));
        byte[] bytes = region.Read(0, rb * Rows).ToArray();
        var fused = WeightMatrix.View(WeightFormat.Q8_0, Rows, Cols, region, 0, region);
        var parts = FusedMatrix.Split(fused, 3, 2, 2);
        Assert.Equal([3, 2, 2], parts.Select(p => p.Rows));
        var a = new float[Cols];
        var b = new float[Cols];
        int at = 0;
        foreach (var part in parts)
            for (int r = 0; r < part.Rows; r++, at++)
            {
                part.DequantizeRow(r, a);
                fused.DequantizeRow(at, b);
                Assert.Equal(b, a);
                Assert.True(part.Row(r).SequenceEqual(bytes.AsSpan(at * rb, rb)));
            }
        Assert.Throws<InvalidDataException>(() => FusedMatrix.Split(fused, 3, 3));
        using var owned = WeightMatrix.FromFloats(WeightFormat.F32, 2, Cols, values);
        Assert.Throws<NotSupportedException>(() => FusedMatrix.Rows(owned, 0, 1));
    }

    /// <summary>
    /// For each feature: the F32 test model's prompt logits with the feature switched off in the config differ from the
    /// real ones by far more than the F32 oracle tolerance, so an implementation that ignored it would fail the oracle test.
    /// </summary>
    [Theory]
    [InlineData("qwen2-bias")]
    [InlineData("qwen3-qknorm")]
    [InlineData("gemma2-window")]
    [InlineData("gemma2-attn-softcap")]
    [InlineData("gemma2-final-softcap")]
    [InlineData("gemma3-local-rope")]
    [InlineData("gemma3-window")]
    public void Each_feature_changes_the_test_model_logits(string feature)
    {
        RandomDecoderSpec spec = feature.Split('-')[0] switch
        {
            "qwen2" => new("qwen2", GgmlType.F32) { QkvBias = true, FreqBase = 1e6f },
            "qwen3" => new("qwen3", GgmlType.F32) { HeadDimOverride = 128, QkNorm = true, FreqBase = 1e6f },
            "gemma2" => new("gemma2", GgmlType.F32) { PostNorms = true, SlidingWindow = 8, AttnSoftCap = 5f, FinalSoftCap = 15f },
            _ => new("gemma3", GgmlType.F32) { Layers = 6, KvHeads = 1, HeadDimOverride = 128, QkNorm = true, PostNorms = true, SlidingWindow = 8, FreqBase = 1e6f },
        };
        Func<ModelConfig, LayerWeights, (ModelConfig, LayerWeights)> off = feature switch
        {
            "qwen2-bias" => (c, l) => (c with { QkvBias = false }, l with { QueryBias = null, KeyBias = null, ValueBias = null }),
            "qwen3-qknorm" => (c, l) => (c with { QkNorm = false }, l with { QueryNorm = null, KeyNorm = null }),
            "gemma2-window" => (c, l) => (c with { SlidingWindows = [] }, l),
            "gemma2-attn-softcap" => (c, l) => (c with { AttentionLogitSoftCap = 0f }, l),
            "gemma2-final-softcap" => (c, l) => (c with { FinalLogitSoftCap = 0f }, l),
            "gemma3-local-rope" => (c, l) => (c with { SlidingRope = null }, l),
            _ => (c, l) => (c with { SlidingWindows = [], SlidingRope = null }, l),
        };
        string path = Path.Combine(Path.GetTempPath(), $"quanta-arch-feature-{feature}-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        try
        {
            RandomDecoderGguf.Write(spec, path);
            using var model = ModelLoader.Load(path);
            ModelConfig mutated = model.Config;
            var layers = new LayerWeights[model.Weights.Layers.Count];
            for (int i = 0; i < layers.Length; i++) (mutated, layers[i]) = off(model.Config, model.Weights.Layers[i]);
            var w = model.Weights;
            var other = new Runtime.DecoderModel(mutated, new ModelWeights(w.TokenEmbedding, layers, w.OutputNorm, w.Output, w.RopeFrequencyFactors));

            int n = OracleHarness.PromptLength, v = model.Config.VocabSize;
            var rng = new Random(1);
            int[] prompt = Enumerable.Range(0, n).Select(i => i == 0 ? 1 : rng.Next(3, v)).ToArray();
            float[] Logits(Runtime.DecoderModel m)
            {
                using var pool = new Quanta.Core.Threading.WorkerPool(2);
                var ws = m.CreateWorkspace(n, n, pool);
                var kv = KvCache.ContiguousKvCache.For(m.Config, n);
                var logits = new float[n * v];
                m.Forward(prompt, 0, kv, logits, allPositions: true, ws);
                return logits;
            }
            float[] a = Logits(model.Model), b = Logits(other);
            double worst = 0;
            for (int p = 0; p < n; p++)
            {
                var row = a.AsSpan(p * v, v);
                double range = OracleHarness.Range(row), d = 0;
                for (int i = 0; i < v; i++) d = Math.Max(d, Math.Abs(row[i] - b[p * v + i]));
                worst = Math.Max(worst, d / range);
            }
            Assert.True(worst > 1e-2, $"{feature}: switching it off changes the logits only by {worst:G3} of the range");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
