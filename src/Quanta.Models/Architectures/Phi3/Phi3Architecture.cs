using System.Text.Json;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Weights;

namespace Quanta.Models.Architectures.Phi3;

/// <summary>
/// Phi-3 / Phi-3.5 hooks (GGUF "phi3", config.json "Phi3ForCausalLM"), the plain (4k, no LongRoPE) case, as llama.cpp's
/// LLM_ARCH_PHI3 graph runs it: RMS norm; one fused QKV projection (GGUF blk.N.attn_qkv [dim → Q;K;V], HF qkv_proj;
/// separate attn_q/k/v are accepted too); RoPE in the NeoX layout; queries scaled by 1/√HeadDim before attention (scale 1
/// inside); a fused gate-up projection (GGUF blk.N.ffn_up [dim → 2·ffn], HF gate_up_proj) whose first half is the SiLU
/// gate and second half the up projection; no biases. Fused matrices are split into zero-copy row views.
/// llama.cpp disables Phi-3's sliding window (PR 13676), so does this (the GGUF/config value is ignored).
/// LongRoPE (rope_factors_long/short tensors, config rope_scaling "longrope") is not supported.
/// </summary>
public sealed class Phi3Architecture : IArchitecture
{
    /// <summary>The singleton.</summary>
    public static Phi3Architecture Instance { get; } = new();

    private Phi3Architecture() { }

    /// <inheritdoc/>
    public string Name => "phi3";

    /// <inheritdoc/>
    public IReadOnlyList<string> GgufNames { get; } = ["phi3"];

    /// <inheritdoc/>
    public IReadOnlyList<string> HuggingFaceNames { get; } = ["Phi3ForCausalLM"];

    /// <inheritdoc/>
    public ModelConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.TryGetTensor("rope_factors_long.weight", out _) || file.TryGetTensor("blk.0.rope_factors_long.weight", out _))
            throw new ModelFileException(file.FilePath, "Phi-3 LongRoPE (rope_factors_long/short) is not supported; only the 4k models are");
        return GgufConventions.ReadConfig(file, Name, RopeLayout.NeoX) with { ScaleQueryBeforeAttention = true };
    }

    /// <inheritdoc/>
    public ModelWeights LoadWeights(GgufFile file, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(config);
        var c = config;
        int d = c.EmbeddingLength, ffn = c.FeedForwardLength;
        NormWeights Norm(string name) => new(GgufTensorLoader.Vector(file, name + ".weight", d));
        WeightMatrix M(string name, int rows, int cols) => GgufTensorLoader.Matrix(file, name, rows, cols);
        var embedding = M("token_embd.weight", c.VocabSize, d);
        var output = c.TiedOutput ? embedding : M("output.weight", c.VocabSize, d);
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"blk.{i}.";
            WeightMatrix q, k, v;
            if (file.TryGetTensor(b + "attn_qkv.weight", out _))
            {
                var qkv = FusedMatrix.Split(M(b + "attn_qkv.weight", c.QueryDim + 2 * c.KvDim, d), c.QueryDim, c.KvDim, c.KvDim);
                (q, k, v) = (qkv[0], qkv[1], qkv[2]);
            }
            else
            {
                (q, k, v) = (M(b + "attn_q.weight", c.QueryDim, d), M(b + "attn_k.weight", c.KvDim, d), M(b + "attn_v.weight", c.KvDim, d));
            }
            var gateUp = FusedMatrix.Split(M(b + "ffn_up.weight", 2 * ffn, d), ffn, ffn);
            layers[i] = new LayerWeights
            {
                AttentionNorm = Norm(b + "attn_norm"),
                Query = q,
                Key = k,
                Value = v,
                Output = M(b + "attn_output.weight", d, c.QueryDim),
                FeedForwardNorm = Norm(b + "ffn_norm"),
                Gate = gateUp[0],
                Up = gateUp[1],
                Down = M(b + "ffn_down.weight", d, ffn),
            };
        }
        var weights = new ModelWeights(embedding, layers, Norm("output_norm"), output);
        weights.Validate(c);
        return weights;
    }

    /// <inheritdoc/>
    public ModelConfig ReadConfig(JsonElement huggingFaceConfig) =>
        HuggingFaceConventions.ReadConfig(huggingFaceConfig, Name) with { ScaleQueryBeforeAttention = true };

    /// <inheritdoc/>
    public ModelWeights LoadWeights(SafetensorsCheckpoint checkpoint, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(config);
        var c = config;
        int d = c.EmbeddingLength, ffn = c.FeedForwardLength;
        NormWeights Norm(string name) => new(HuggingFaceConventions.Vector(checkpoint, name, d));
        WeightMatrix M(string name, int rows, int cols) => HuggingFaceConventions.Matrix(checkpoint, name, rows, cols);
        var embedding = M("model.embed_tokens.weight", c.VocabSize, d);
        var output = c.TiedOutput || !checkpoint.Contains("lm_head.weight") ? embedding : M("lm_head.weight", c.VocabSize, d);
        var layers = new LayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"model.layers.{i}.";
            var qkv = FusedMatrix.Split(M(b + "self_attn.qkv_proj.weight", c.QueryDim + 2 * c.KvDim, d), c.QueryDim, c.KvDim, c.KvDim);
            var gateUp = FusedMatrix.Split(M(b + "mlp.gate_up_proj.weight", 2 * ffn, d), ffn, ffn);
            layers[i] = new LayerWeights
            {
                AttentionNorm = Norm(b + "input_layernorm.weight"),
                Query = qkv[0],
                Key = qkv[1],
                Value = qkv[2],
                Output = M(b + "self_attn.o_proj.weight", d, c.QueryDim),
                FeedForwardNorm = Norm(b + "post_attention_layernorm.weight"),
                Gate = gateUp[0],
                Up = gateUp[1],
                Down = M(b + "mlp.down_proj.weight", d, ffn),
            };
        }
        var weights = new ModelWeights(embedding, layers, Norm("model.norm.weight"), output);
        weights.Validate(c);
        return weights;
    }
}
