using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures;

/// <summary>
/// llama.cpp's GGUF conventions shared by the decoder-only families: the "{arch}.*" hyper-parameter keys and the
/// tensor names (token_embd, blk.N.attn_q, ..., output_norm, output, rope_freqs). Architecture hooks call these and
/// then adjust what differs.
/// </summary>
public static class GgufConventions
{
    /// <summary>
    /// Reads {arch}.embedding_length, block_count, feed_forward_length, attention.head_count(_kv), attention.key_length,
    /// context_length, attention.layer_norm_rms_epsilon (or layer_norm_epsilon), rope.dimension_count,
    /// rope.freq_base, rope.scaling.* and the vocabulary size ({arch}.vocab_size, else the tokenizer's token count,
    /// else token_embd's rows). Output tying follows the absence of output.weight.
    /// </summary>
    public static ModelConfig ReadConfig(GgufFile file, string arch, RopeLayout layout)
    {
        ArgumentNullException.ThrowIfNull(file);
        string p = arch + ".";
        int Int(string key) => checked((int)file.GetInteger(p + key));
        int IntOr(string key, int fallback) => file.ContainsKey(p + key) ? Int(key) : fallback;
        float FloatOr(string key, float fallback) => file.TryGetFloat32(p + key, out float v) ? v : fallback;

        int dim = Int("embedding_length");
        int heads = Int("attention.head_count");
        int kvHeads = IntOr("attention.head_count_kv", heads);
        int headDim = IntOr("attention.key_length", dim / heads);
        int valueDim = IntOr("attention.value_length", headDim);
        if (valueDim != headDim)
            throw new ModelFileException(file.FilePath, $"key length {headDim} differs from value length {valueDim}; not supported");
        int rotDims = IntOr("rope.dimension_count", headDim);
        float eps = file.ContainsKey(p + "attention.layer_norm_rms_epsilon")
            ? file.GetFloat32(p + "attention.layer_norm_rms_epsilon")
            : FloatOr("attention.layer_norm_epsilon", 1e-5f);
        int context = Int("context_length");

        var rope = new RopeParameters(rotDims, layout, FloatOr("rope.freq_base", 10000f));
        string scaling = file.TryGetString(p + "rope.scaling.type", out string s) ? s : "none";
        float factor = FloatOr("rope.scaling.factor", FloatOr("rope.scale_linear", 1f));
        switch (scaling)
        {
            case "none":
                if (factor != 1f && factor > 0f) rope = rope with { FreqScale = 1f / factor };
                break;
            case "linear":
                if (factor > 0f) rope = rope with { FreqScale = 1f / factor };
                break;
            case "yarn":
                rope = rope with
                {
                    FreqScale = factor > 0f ? 1f / factor : 1f,
                    ExtFactor = 1f,
                    OriginalContext = IntOr("rope.scaling.original_context_length", context),
                };
                break;
            default:
                throw new ModelFileException(file.FilePath, $"rope scaling type '{scaling}' is not supported (none, linear, yarn)");
        }

        int vocab = file.ContainsKey(p + "vocab_size") ? Int("vocab_size")
            : file.TryGet("tokenizer.ggml.tokens", out GgufArray tokens) ? tokens.Count
            : checked((int)file.GetTensor("token_embd.weight").Shape[1]);

        return new ModelConfig
        {
            Architecture = arch,
            Layers = Int("block_count"),
            EmbeddingLength = dim,
            FeedForwardLength = Int("feed_forward_length"),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            VocabSize = vocab,
            ContextLength = context,
            NormEps = eps,
            Rope = rope,
            TiedOutput = !file.TryGetTensor("output.weight", out _),
        };
    }

    /// <summary>
    /// Loads the llama.cpp-named tensors: token_embd, output_norm, output (or token_embd when tied), rope_freqs
    /// (optional) and per block attn_norm, attn_q/k/v (+ .bias when QkvBias), attn_q_norm/attn_k_norm (QkNorm),
    /// attn_output, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm. Matrices are zero-copy.
    /// </summary>
    public static ModelWeights LoadWeights(GgufFile file, ModelConfig c)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(c);
        int d = c.EmbeddingLength;
        NormWeights Norm(string name, int n) =>
            new(GgufTensorLoader.Vector(file, name + ".weight", n), GgufTensorLoader.OptionalVector(file, name + ".bias", n));
        var embedding = GgufTensorLoader.Matrix(file, "token_embd.weight", c.VocabSize, d);
        var output = c.TiedOutput ? embedding : GgufTensorLoader.Matrix(file, "output.weight", c.VocabSize, d);
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"blk.{i}.";
            layers[i] = new LayerWeights
            {
                AttentionNorm = Norm(b + "attn_norm", d),
                Query = GgufTensorLoader.Matrix(file, b + "attn_q.weight", c.QueryDim, d),
                Key = GgufTensorLoader.Matrix(file, b + "attn_k.weight", c.KvDim, d),
                Value = GgufTensorLoader.Matrix(file, b + "attn_v.weight", c.KvDim, d),
                Output = GgufTensorLoader.Matrix(file, b + "attn_output.weight", d, c.QueryDim),
                QueryBias = c.QkvBias ? GgufTensorLoader.Vector(file, b + "attn_q.bias", c.QueryDim) : null,
                KeyBias = c.QkvBias ? GgufTensorLoader.Vector(file, b + "attn_k.bias", c.KvDim) : null,
                ValueBias = c.QkvBias ? GgufTensorLoader.Vector(file, b + "attn_v.bias", c.KvDim) : null,
                QueryNorm = c.QkNorm ? Norm(b + "attn_q_norm", c.HeadDim) : null,
                KeyNorm = c.QkNorm ? Norm(b + "attn_k_norm", c.HeadDim) : null,
                PostAttentionNorm = c.PostAttentionNorm ? Norm(b + "post_attention_norm", d) : null,
                FeedForwardNorm = Norm(b + "ffn_norm", d),
                Gate = GgufTensorLoader.Matrix(file, b + "ffn_gate.weight", c.FeedForwardLength, d),
                Up = GgufTensorLoader.Matrix(file, b + "ffn_up.weight", c.FeedForwardLength, d),
                Down = GgufTensorLoader.Matrix(file, b + "ffn_down.weight", d, c.FeedForwardLength),
                PostFeedForwardNorm = c.PostFeedForwardNorm ? Norm(b + "post_ffw_norm", d) : null,
            };
        }
        float[]? freqs = GgufTensorLoader.OptionalVector(file, "rope_freqs.weight", c.Rope.RotaryDims / 2);
        var weights = new ModelWeights(embedding, layers, Norm("output_norm", d), output, freqs);
        weights.Validate(c);
        return weights;
    }
}
