using System.Runtime.CompilerServices;
using System.Text.Json;
using Quanta.Core.Formats;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.HuggingFace;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures;

/// <summary>
/// Hugging Face transformers conventions shared by Llama-like families: config.json keys and the safetensors
/// tensor names (model.embed_tokens, model.layers.N.self_attn.q_proj, ..., model.norm, lm_head). HF checkpoints keep
/// Q/K in the rotate-half order, so RoPE runs with the NeoX layout on them (GGUF llama files are permuted to the
/// normal layout instead). Matrices in F32/F16/BF16 are used in place (zero-copy); quantized checkpoints (compressed-tensors
/// FP8/INT8/pack-quantized INT4, ModelOpt FP8, GPTQ, AWQ) are converted to Quanta rows by <see cref="QuantizedTensorLoader"/>.
/// </summary>
public static class HuggingFaceConventions
{
    /// <summary>Reads the Llama-style config.json keys.</summary>
    public static ModelConfig ReadConfig(JsonElement root, string arch)
    {
        int Int(string key) => root.GetProperty(key).GetInt32();
        int IntOr(string key, int fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
        float FloatOr(string key, float fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;
        bool BoolOr(string key, bool fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

        int dim = Int("hidden_size");
        int heads = Int("num_attention_heads");
        int headDim = IntOr("head_dim", dim / heads);
        var rope = new RopeParameters(headDim, RopeLayout.NeoX, FloatOr("rope_theta", 10000f));
        Llama3RopeScaling? llama3 = null;
        if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            string type = rs.TryGetProperty("rope_type", out var t) ? t.GetString() ?? ""
                : rs.TryGetProperty("type", out t) ? t.GetString() ?? "" : "";
            float factor = rs.TryGetProperty("factor", out var f) ? f.GetSingle() : 1f;
            switch (type)
            {
                case "llama3":
                    llama3 = new Llama3RopeScaling(factor, rs.GetProperty("low_freq_factor").GetSingle(),
                        rs.GetProperty("high_freq_factor").GetSingle(), rs.GetProperty("original_max_position_embeddings").GetInt32());
                    break;
                case "linear":
                    rope = rope with { FreqScale = 1f / factor };
                    break;
                case "default" or "":
                    break;
                default:
                    throw new NotSupportedException($"rope_scaling type '{type}' is not supported (llama3, linear)");
            }
        }
        return new ModelConfig
        {
            Architecture = arch,
            Layers = Int("num_hidden_layers"),
            EmbeddingLength = dim,
            FeedForwardLength = Int("intermediate_size"),
            Heads = heads,
            KvHeads = IntOr("num_key_value_heads", heads),
            HeadDim = headDim,
            VocabSize = Int("vocab_size"),
            ContextLength = IntOr("max_position_embeddings", 2048),
            NormEps = FloatOr("rms_norm_eps", 1e-6f),
            Rope = rope,
            RopeLlama3 = llama3,
            QkvBias = BoolOr("attention_bias", false),
            TiedOutput = BoolOr("tie_word_embeddings", false),
        };
    }

    /// <summary>Loads model.embed_tokens, model.layers.N.*, model.norm and lm_head (or the embedding when tied).</summary>
    public static ModelWeights LoadWeights(SafetensorsCheckpoint ckpt, ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        ArgumentNullException.ThrowIfNull(c);
        _ = QuantizationOf(ckpt); // an unsupported quantization_config fails here, before any tensor is read
        int d = c.EmbeddingLength;
        NormWeights Norm(string name, int n) => new(Vector(ckpt, name, n));
        var embedding = Matrix(ckpt, "model.embed_tokens.weight", c.VocabSize, d);
        var output = c.TiedOutput || !ckpt.Contains("lm_head.weight") ? embedding : Matrix(ckpt, "lm_head.weight", c.VocabSize, d);
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"model.layers.{i}.";
            layers[i] = new LayerWeights
            {
                AttentionNorm = Norm(b + "input_layernorm.weight", d),
                Query = Matrix(ckpt, b + "self_attn.q_proj.weight", c.QueryDim, d),
                Key = Matrix(ckpt, b + "self_attn.k_proj.weight", c.KvDim, d),
                Value = Matrix(ckpt, b + "self_attn.v_proj.weight", c.KvDim, d),
                Output = Matrix(ckpt, b + "self_attn.o_proj.weight", d, c.QueryDim),
                QueryBias = c.QkvBias ? Vector(ckpt, b + "self_attn.q_proj.bias", c.QueryDim) : null,
                KeyBias = c.QkvBias ? Vector(ckpt, b + "self_attn.k_proj.bias", c.KvDim) : null,
                ValueBias = c.QkvBias ? Vector(ckpt, b + "self_attn.v_proj.bias", c.KvDim) : null,
                FeedForwardNorm = Norm(b + "post_attention_layernorm.weight", d),
                Gate = Matrix(ckpt, b + "mlp.gate_proj.weight", c.FeedForwardLength, d),
                Up = Matrix(ckpt, b + "mlp.up_proj.weight", c.FeedForwardLength, d),
                Down = Matrix(ckpt, b + "mlp.down_proj.weight", d, c.FeedForwardLength),
            };
        }
        float[]? freqs = null;
        if (c.RopeLlama3 is { } l3)
        {
            freqs = new float[c.Rope.RotaryDims / 2];
            RopeScaling.Llama3FrequencyFactors(c.Rope.RotaryDims, c.Rope.FreqBase, l3.Factor, l3.LowFreqFactor, l3.HighFreqFactor,
                l3.OriginalMaxPositions, freqs);
        }
        var weights = new ModelWeights(embedding, layers, Norm("model.norm.weight", d), output, freqs);
        weights.Validate(c);
        return weights;
    }

    private static WeightFormat FormatOf(SafetensorsTensorInfo t) => t.DType switch
    {
        SafetensorsDType.F32 => WeightFormat.F32,
        SafetensorsDType.F16 => WeightFormat.F16,
        SafetensorsDType.BF16 => WeightFormat.BF16,
        _ => throw new NotSupportedException($"tensor '{t.Name}' has dtype {t.DType}; only F32, F16 and BF16 are supported"),
    };

    /// <summary>
    /// The matrix <paramref name="name"/> [rows, cols] (safetensors shape [rows, cols], row-major) in whatever storage the
    /// checkpoint has: F32/F16/BF16 zero-copy, FP8/INT8/GPTQ/AWQ/pack-quantized converted (see
    /// <see cref="QuantizedTensorLoader"/>), under the quantization_config of the checkpoint's folder
    /// (<see cref="QuantizationOf"/>).
    /// </summary>
    public static WeightMatrix Matrix(SafetensorsCheckpoint ckpt, string name, int rows, int cols) =>
        QuantizedTensorLoader.Matrix(ckpt, name, rows, cols, QuantizationOf(ckpt));

    /// <summary>
    /// The quantization declared by config.json (or hf_quant_config.json) in the folder of the checkpoint's first shard,
    /// read once per checkpoint; <see cref="HuggingFaceQuantization.None"/> for in-memory checkpoints.
    /// </summary>
    /// <exception cref="NotSupportedException">The declared quantization is not supported (the message names it).</exception>
    public static HuggingFaceQuantization QuantizationOf(SafetensorsCheckpoint ckpt)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        return s_quantization.GetValue(ckpt, static c =>
        {
            string path = c.Shards.Count > 0 ? c.Shards[0].FilePath : "";
            return File.Exists(path) ? HuggingFaceQuantization.ForDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!) : HuggingFaceQuantization.None;
        });
    }

    private static readonly ConditionalWeakTable<SafetensorsCheckpoint, HuggingFaceQuantization> s_quantization = new();

    /// <summary>A vector of <paramref name="length"/> F32/F16/BF16 elements converted to F32.</summary>
    public static float[] Vector(SafetensorsCheckpoint ckpt, string name, int length)
    {
        ArgumentNullException.ThrowIfNull(ckpt);
        var t = ckpt.GetTensor(name, out _);
        if (t.ElementCount != length) throw new InvalidDataException($"tensor '{name}' has {t.ElementCount} elements, expected {length}");
        var result = new float[length];
        CodecRegistry.For(FormatOf(t)).DequantizeReference(ckpt.GetTensorData(name), result);
        return result;
    }
}
