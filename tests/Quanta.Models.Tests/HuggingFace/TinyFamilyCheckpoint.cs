using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Models.Tests.HuggingFace;

/// <summary>
/// A tiny random-weight decoder of one Hugging Face family (Qwen2, Qwen3, Phi-3, Gemma 2, Gemma 3) held as F32 tensors
/// under the family's transformers names (modeling_&lt;family&gt;.py), with the family's published config.json fields, and
/// written either as a Hugging Face checkpoint (config.json + model.safetensors, F32 or BF16) or as the GGUF that
/// llama.cpp's convert_hf_to_gguf.py makes of it: llama.cpp tensor names, no Q/K permutation (every one of these
/// families uses NeoX RoPE), Phi-3's fused qkv_proj / gate_up_proj kept fused as attn_qkv / ffn_up, Gemma norms stored as
/// 1 + w (HF Gemma RMSNorm multiplies by 1 + w), 1-D tensors in F32, and the converter's metadata keys.
/// Both files hold exactly the same numbers, so a correct loader gives the same logits from either.
/// </summary>
public sealed class TinyFamilyCheckpoint
{
    /// <summary>GGUF general.architecture of the family.</summary>
    public string Arch { get; }

    /// <summary>The config.json object.</summary>
    public JsonObject Config { get; private set; } = [];

    public int Dim { get; private init; } = 64;
    public int Heads { get; private init; } = 4;
    public int KvHeads { get; private init; } = 2;
    public int HeadDim { get; private init; } = 16;
    public int Ffn { get; private init; } = 128;
    public int Layers { get; private init; } = 2;
    public int Vocab { get; private init; } = 256;
    public int Context { get; private init; } = 128;
    public float Eps { get; private init; } = 1e-6f;

    /// <summary>HF Gemma norm weights are stored as w with the model computing x̂·(1 + w).</summary>
    private bool GemmaNorms => Arch.StartsWith("gemma", StringComparison.Ordinal);

    private readonly List<(string Name, float[] Values, long[] Shape)> _tensors = [];
    private readonly List<(string Key, GgufValue Value)> _gguf = [];
    private readonly Random _rng;

    private TinyFamilyCheckpoint(string arch, int seed)
    {
        Arch = arch;
        _rng = new Random(seed);
    }

    // ---- model construction -----------------------------------------------------------------------------------------

    private float[] Rand(int n, float center, float amp)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = center + (float)(_rng.NextDouble() * 2 - 1) * amp;
        return v;
    }

    private void M(string name, int rows, int cols, float amp) => _tensors.Add((name, Rand(rows * cols, 0f, amp), [rows, cols]));

    private void V(string name, int n, float amp) => _tensors.Add((name, Rand(n, 0f, amp), [n]));

    /// <summary>A norm weight: around 1 (x̂·w), or around 0 for Gemma (x̂·(1 + w)).</summary>
    private void N(string name, int n) => _tensors.Add((name, Rand(n, GemmaNorms ? 0f : 1f, 0.2f), [n]));

    private void Key<T>(string key, T value) => _gguf.Add((Arch + "." + key, GgufValue.From(value)));

    /// <summary>The GGUF keys every converted decoder has (TextModel.set_gguf_parameters).</summary>
    private void CommonGgufKeys(float ropeTheta)
    {
        Key("context_length", (uint)Context);
        Key("embedding_length", (uint)Dim);
        Key("block_count", (uint)Layers);
        Key("feed_forward_length", (uint)Ffn);
        Key("attention.head_count", (uint)Heads);
        Key("attention.head_count_kv", (uint)KvHeads);
        Key("attention.layer_norm_rms_epsilon", Eps);
        Key("rope.freq_base", ropeTheta);
        Key("vocab_size", (uint)Vocab);
    }

    private void HeadDimGgufKeys()
    {
        Key("attention.key_length", (uint)HeadDim);
        Key("attention.value_length", (uint)HeadDim);
    }

    /// <summary>Sets <see cref="Config"/> to the Llama-style keys every family shares and returns it for the family's additions.</summary>
    private JsonObject BaseConfig(string architecture, string modelType, bool tied, float ropeTheta) => Config = new()
    {
        ["architectures"] = new JsonArray(architecture),
        ["model_type"] = modelType,
        ["hidden_size"] = Dim,
        ["intermediate_size"] = Ffn,
        ["num_attention_heads"] = Heads,
        ["num_key_value_heads"] = KvHeads,
        ["num_hidden_layers"] = Layers,
        ["rms_norm_eps"] = Eps,
        ["rope_theta"] = ropeTheta,
        ["vocab_size"] = Vocab,
        ["tie_word_embeddings"] = tied,
        ["max_position_embeddings"] = Context,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["attention_dropout"] = 0.0,
        ["rope_scaling"] = null,
        ["torch_dtype"] = "float32",
    };

    /// <summary>
    /// The Llama-shaped tensor set under HF names: embed_tokens, per layer input_layernorm, q/k/v/o_proj (q/k/v biases
    /// when <paramref name="qkvBias"/>; Phi-3's qkv_proj when <paramref name="fused"/>), q_norm/k_norm when
    /// <paramref name="qkNorm"/>, post_attention_layernorm, (Gemma: pre_/post_feedforward_layernorm), gate/up/down_proj
    /// (Phi-3: gate_up_proj), model.norm, lm_head unless tied.
    /// </summary>
    private void Tensors(bool tied, bool qkvBias = false, bool qkNorm = false, bool fused = false)
    {
        int d = Dim, qd = Heads * HeadDim, kvd = KvHeads * HeadDim;
        float a = 1.7f / MathF.Sqrt(d);
        M("model.embed_tokens.weight", Vocab, d, GemmaNorms ? 0.15f : 1f); // Gemma multiplies embeddings by √dim
        for (int l = 0; l < Layers; l++)
        {
            string b = $"model.layers.{l}.";
            N(b + "input_layernorm.weight", d);
            if (fused)
            {
                M(b + "self_attn.qkv_proj.weight", qd + 2 * kvd, d, 2f * a);
            }
            else
            {
                M(b + "self_attn.q_proj.weight", qd, d, 2f * a);
                M(b + "self_attn.k_proj.weight", kvd, d, 2f * a);
                M(b + "self_attn.v_proj.weight", kvd, d, a);
            }
            if (qkvBias)
            {
                V(b + "self_attn.q_proj.bias", qd, 0.5f);
                V(b + "self_attn.k_proj.bias", kvd, 0.5f);
                V(b + "self_attn.v_proj.bias", kvd, 0.5f);
            }
            if (qkNorm)
            {
                N(b + "self_attn.q_norm.weight", HeadDim);
                N(b + "self_attn.k_norm.weight", HeadDim);
            }
            M(b + "self_attn.o_proj.weight", d, qd, a);
            N(b + "post_attention_layernorm.weight", d);
            if (GemmaNorms)
            {
                N(b + "pre_feedforward_layernorm.weight", d);
                N(b + "post_feedforward_layernorm.weight", d);
            }
            if (fused)
            {
                M(b + "mlp.gate_up_proj.weight", 2 * Ffn, d, a);
            }
            else
            {
                M(b + "mlp.gate_proj.weight", Ffn, d, a);
                M(b + "mlp.up_proj.weight", Ffn, d, a);
            }
            M(b + "mlp.down_proj.weight", d, Ffn, 1.7f / MathF.Sqrt(Ffn));
        }
        N("model.norm.weight", d);
        if (!tied) M("lm_head.weight", Vocab, d, 0.5f);
    }

    // ---- the families -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Qwen2/Qwen2.5 (Qwen2ForCausalLM): Q/K/V biases, tied output as the small Qwen2.5 models, rope_theta 1e6,
    /// use_sliding_window false (the released setting; sliding_window and max_window_layers present but unused).
    /// </summary>
    public static TinyFamilyCheckpoint Qwen2(int seed)
    {
        var r = new TinyFamilyCheckpoint("qwen2", seed);
        var c = r.BaseConfig("Qwen2ForCausalLM", "qwen2", tied: true, ropeTheta: 1000000f);
        c["hidden_act"] = "silu";
        c["use_sliding_window"] = false;
        c["sliding_window"] = 32768;
        c["max_window_layers"] = 21;
        r.Tensors(tied: true, qkvBias: true);
        r.CommonGgufKeys(1000000f);
        return r;
    }

    /// <summary>Qwen3 (Qwen3ForCausalLM): head_dim 32 ≠ hidden/heads, q_norm/k_norm, no biases, untied lm_head.</summary>
    public static TinyFamilyCheckpoint Qwen3(int seed)
    {
        var r = new TinyFamilyCheckpoint("qwen3", seed) { HeadDim = 32 };
        var c = r.BaseConfig("Qwen3ForCausalLM", "qwen3", tied: false, ropeTheta: 1000000f);
        c["head_dim"] = r.HeadDim;
        c["hidden_act"] = "silu";
        c["attention_bias"] = false;
        c["use_sliding_window"] = false;
        c["sliding_window"] = null;
        c["max_window_layers"] = r.Layers;
        r.Tensors(tied: false, qkNorm: true);
        r.CommonGgufKeys(1000000f);
        r.HeadDimGgufKeys();
        return r;
    }

    /// <summary>
    /// Phi-3 mini-style (Phi3ForCausalLM) with grouped-query attention as Phi-3 medium: fused qkv_proj [Q; K; V] and
    /// gate_up_proj [gate; up], untied, sliding_window 2047 and original_max_position_embeddings as published, no rope_scaling.
    /// </summary>
    public static TinyFamilyCheckpoint Phi3(int seed)
    {
        var r = new TinyFamilyCheckpoint("phi3", seed) { Eps = 1e-5f };
        var c = r.BaseConfig("Phi3ForCausalLM", "phi3", tied: false, ropeTheta: 10000f);
        c["hidden_act"] = "silu";
        c["original_max_position_embeddings"] = r.Context;
        c["sliding_window"] = 2047;
        c["embd_pdrop"] = 0.0;
        c["resid_pdrop"] = 0.0;
        c["pad_token_id"] = 0;
        r.Tensors(tied: false, fused: true);
        r.CommonGgufKeys(10000f);
        r.Key("rope.dimension_count", (uint)r.HeadDim);
        r.Key("rope.scaling.original_context_length", (uint)r.Context);
        r.Key("attention.sliding_window", 2047u);
        return r;
    }

    /// <summary>Attention and final soft-caps of the Gemma 2 model: small enough that both act on this tiny model's values.</summary>
    public const float Gemma2AttnCap = 4f, Gemma2FinalCap = 6f;

    /// <summary>Sliding window of the Gemma models (shorter than the 32-token test prompt).</summary>
    public const int GemmaWindow = 8;

    /// <summary>
    /// Gemma 2 (Gemma2ForCausalLM): head_dim 32 ≠ hidden/heads, query_pre_attn_scalar = head_dim, attention and final
    /// logit soft-capping, sliding window on even layers, tied output, gelu_pytorch_tanh, norms stored as w (model: 1 + w).
    /// </summary>
    public static TinyFamilyCheckpoint Gemma2(int seed)
    {
        var r = new TinyFamilyCheckpoint("gemma2", seed) { HeadDim = 32 };
        var c = r.BaseConfig("Gemma2ForCausalLM", "gemma2", tied: true, ropeTheta: 10000f);
        c["head_dim"] = r.HeadDim;
        c["hidden_act"] = "gelu_pytorch_tanh";
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["query_pre_attn_scalar"] = r.HeadDim;
        c["attn_logit_softcapping"] = Gemma2AttnCap;
        c["final_logit_softcapping"] = Gemma2FinalCap;
        c["sliding_window"] = GemmaWindow;
        c["cache_implementation"] = "hybrid";
        c["attention_bias"] = false;
        c["pad_token_id"] = 0;
        r.Tensors(tied: true);
        r.CommonGgufKeys(10000f);
        r.HeadDimGgufKeys();
        r.Key("attn_logit_softcapping", Gemma2AttnCap);
        r.Key("final_logit_softcapping", Gemma2FinalCap);
        r.Key("attention.sliding_window", (uint)GemmaWindow);
        return r;
    }

    /// <summary>
    /// Gemma 3 text (Gemma3ForCausalLM), 6 layers so that layer 5 is global: head_dim 32, one KV head, q_norm/k_norm,
    /// query_pre_attn_scalar = head_dim, sliding window 8 on layers 0-4, rope_theta 1e6 (global) vs rope_local_base_freq
    /// 10000, no soft-caps (null as published). The sliding layers are given either the way the released configs do
    /// (sliding_window_pattern 6, no scaling, as gemma-3-1b) or the way newer transformers save them (layer_types) with
    /// the 4B-and-larger models' linear rope_scaling (factor 8, global layers only).
    /// </summary>
    public static TinyFamilyCheckpoint Gemma3(int seed, bool layerTypesAndLinearScaling)
    {
        const int layers = 6;
        var r = new TinyFamilyCheckpoint("gemma3", seed) { HeadDim = 32, KvHeads = 1, Layers = layers };
        var c = r.BaseConfig("Gemma3ForCausalLM", "gemma3_text", tied: true, ropeTheta: 1000000f);
        c["head_dim"] = r.HeadDim;
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["query_pre_attn_scalar"] = r.HeadDim;
        c["attn_logit_softcapping"] = null;
        c["final_logit_softcapping"] = null;
        c["sliding_window"] = GemmaWindow;
        c["rope_local_base_freq"] = 10000; // an integer, as in the published gemma-3 configs
        c["rope_theta"] = 1000000;
        c["bos_token_id"] = 2;
        c["eos_token_id"] = new JsonArray(1, 106); // a list, as in gemma-3-1b-it
        c["attention_bias"] = false;
        c["pad_token_id"] = 0;
        if (layerTypesAndLinearScaling)
        {
            var types = new JsonArray();
            for (int l = 0; l < layers; l++) types.Add((l + 1) % 6 != 0 ? "sliding_attention" : "full_attention");
            c["layer_types"] = types;
            c["rope_scaling"] = new JsonObject { ["factor"] = 8.0, ["rope_type"] = "linear" };
        }
        else
        {
            c["sliding_window_pattern"] = 6;
        }
        r.Tensors(tied: true, qkNorm: true);
        r.CommonGgufKeys(1000000f);
        r.HeadDimGgufKeys();
        r.Key("attention.sliding_window", (uint)GemmaWindow);
        if (layerTypesAndLinearScaling)
        {
            r.Key("rope.scaling.type", "linear");
            r.Key("rope.scaling.factor", 8f);
        }
        return r;
    }

    // ---- storage ----------------------------------------------------------------------------------------------------

    /// <summary>Rounds every value to the nearest BF16 (ties to even) so that BF16 storage holds the model exactly.</summary>
    public TinyFamilyCheckpoint RoundToBF16()
    {
        foreach (var (_, values, _) in _tensors)
            for (int i = 0; i < values.Length; i++)
            {
                uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
                values[i] = BitConverter.UInt32BitsToSingle(bits);
            }
        return this;
    }

    private static byte[] BF16Bytes(float[] values)
    {
        var u = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(values[i]);
            if ((bits & 0xFFFFu) != 0) throw new InvalidOperationException("value is not BF16-exact: call RoundToBF16 first");
            u[i] = (ushort)(bits >> 16);
        }
        return MemoryMarshal.AsBytes(u.AsSpan()).ToArray();
    }

    /// <summary>Writes <paramref name="dir"/>/config.json and model.safetensors with every tensor in <paramref name="dtype"/> (F32 or BF16).</summary>
    public void WriteHuggingFace(string dir, SafetensorsDType dtype = SafetensorsDType.F32)
    {
        Directory.CreateDirectory(dir);
        var w = new SafetensorsWriter();
        w.AddMetadata("format", "pt");
        foreach (var (name, values, shape) in _tensors)
        {
            byte[] bytes = dtype switch
            {
                SafetensorsDType.F32 => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
                SafetensorsDType.BF16 => BF16Bytes(values),
                _ => throw new ArgumentException($"dtype {dtype} is not written by this test model", nameof(dtype)),
            };
            w.AddTensor(name, dtype, shape, bytes);
        }
        w.WriteTo(Path.Combine(dir, "model.safetensors"));
        var config = (JsonObject)Config.DeepClone();
        config["torch_dtype"] = dtype == SafetensorsDType.BF16 ? "bfloat16" : "float32";
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
    }

    /// <summary>
    /// llama.cpp's name for an HF tensor (gguf-py tensor_mapping.py for these families). Gemma's post_attention_layernorm
    /// is the post-attention norm (the pre-feed-forward norm is pre_feedforward_layernorm), elsewhere it is ffn_norm.
    /// </summary>
    public string GgufName(string hf)
    {
        switch (hf)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }
        const string prefix = "model.layers.";
        if (!hf.StartsWith(prefix, StringComparison.Ordinal)) throw new ArgumentException($"unmapped tensor {hf}", nameof(hf));
        int dot = hf.IndexOf('.', prefix.Length);
        string layer = hf[prefix.Length..dot];
        string rest = hf[(dot + 1)..];
        int last = rest.LastIndexOf('.');
        string module = rest[..last], kind = rest[(last + 1)..];
        string g = module switch
        {
            "input_layernorm" => "attn_norm",
            "post_attention_layernorm" => GemmaNorms ? "post_attention_norm" : "ffn_norm",
            "pre_feedforward_layernorm" => "ffn_norm",
            "post_feedforward_layernorm" => "post_ffw_norm",
            "self_attn.q_proj" => "attn_q",
            "self_attn.k_proj" => "attn_k",
            "self_attn.v_proj" => "attn_v",
            "self_attn.qkv_proj" => "attn_qkv",
            "self_attn.o_proj" => "attn_output",
            "self_attn.q_norm" => "attn_q_norm",
            "self_attn.k_norm" => "attn_k_norm",
            "mlp.gate_proj" => "ffn_gate",
            "mlp.up_proj" => "ffn_up",
            "mlp.gate_up_proj" => "ffn_up",
            "mlp.down_proj" => "ffn_down",
            _ => throw new ArgumentException($"unmapped module {module}", nameof(hf)),
        };
        return $"blk.{layer}.{g}.{kind}";
    }

    /// <summary>
    /// Writes the GGUF convert_hf_to_gguf.py makes: matrices in <paramref name="matrixType"/> (F32 or BF16, GGUF shape
    /// [cols, rows]), 1-D tensors in F32, Gemma norm weights + 1, no tokenizer (the vocabulary size comes from {arch}.vocab_size).
    /// </summary>
    public void WriteGguf(string path, GgmlType matrixType = GgmlType.F32)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", Arch);
        w.Add("general.name", $"quanta-tiny-{Arch}");
        foreach (var (key, value) in _gguf) w.Add(key, value);
        foreach (var (name, values, shape) in _tensors)
        {
            string g = GgufName(name);
            if (shape.Length == 1)
            {
                float[] v = values;
                if (GemmaNorms && name.EndsWith("norm.weight", StringComparison.Ordinal))
                {
                    v = new float[values.Length];
                    for (int i = 0; i < v.Length; i++) v[i] = values[i] + 1f;
                }
                w.AddTensor(g, GgmlType.F32, [v.Length], MemoryMarshal.AsBytes(v.AsSpan()));
                continue;
            }
            long rows = shape[0], cols = shape[1];
            byte[] bytes = matrixType switch
            {
                GgmlType.F32 => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
                GgmlType.BF16 => BF16Bytes(values),
                _ => throw new ArgumentException($"type {matrixType} is not written by this test model", nameof(matrixType)),
            };
            w.AddTensor(g, matrixType, [cols, rows], bytes);
        }
        w.WriteTo(path);
    }
}
