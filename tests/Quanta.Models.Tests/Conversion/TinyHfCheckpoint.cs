using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Models.Tests.Conversion;

/// <summary>Writes a small random Hugging Face Llama checkpoint folder (config.json, model.safetensors, a stand-in tokenizer_config.json).</summary>
internal static class TinyHfCheckpoint
{
    public const int Dim = 64, Heads = 4, KvHeads = 2, Ffn = 128, Layers = 2, Vocab = 96;

    public static string Write(string dir, SafetensorsDType dtype, int seed)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": {{Dim}}, "intermediate_size": {{Ffn}},
             "num_attention_heads": {{Heads}}, "num_key_value_heads": {{KvHeads}}, "num_hidden_layers": {{Layers}},
             "vocab_size": {{Vocab}}, "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "tie_word_embeddings": false, "torch_dtype": "float32"}
            """);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<s>"}""");
        var rng = new Random(seed);
        var w = new SafetensorsWriter();
        void Add(string name, float amplitude, float center, params long[] shape)
        {
            long n = 1;
            foreach (long s in shape) n *= s;
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = center + (float)(rng.NextDouble() * 2 - 1) * amplitude;
            byte[] bytes;
            if (dtype == SafetensorsDType.F32) bytes = MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
            else
            {
                var h = new ushort[n];
                for (int i = 0; i < n; i++) h[i] = dtype == SafetensorsDType.F16 ? F16Conversion.FromSingle(v[i]) : BF16Conversion.FromSingle(v[i]);
                bytes = MemoryMarshal.AsBytes(h.AsSpan()).ToArray();
            }
            w.AddTensor(name, dtype, shape, bytes);
        }
        int hd = Dim / Heads, kv = KvHeads * hd;
        float a = 1.7f / MathF.Sqrt(Dim);
        Add("model.embed_tokens.weight", 1f, 0, Vocab, Dim);
        Add("model.norm.weight", 0.2f, 1f, Dim);
        Add("lm_head.weight", 0.5f, 0, Vocab, Dim);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", 0.2f, 1f, Dim);
            Add(p + "self_attn.q_proj.weight", 2 * a, 0, Dim, Dim);
            Add(p + "self_attn.k_proj.weight", 2 * a, 0, kv, Dim);
            Add(p + "self_attn.v_proj.weight", a, 0, kv, Dim);
            Add(p + "self_attn.o_proj.weight", a, 0, Dim, Dim);
            Add(p + "post_attention_layernorm.weight", 0.2f, 1f, Dim);
            Add(p + "mlp.gate_proj.weight", a, 0, Ffn, Dim);
            Add(p + "mlp.up_proj.weight", a, 0, Ffn, Dim);
            Add(p + "mlp.down_proj.weight", 1.7f / MathF.Sqrt(Ffn), 0, Dim, Ffn);
        }
        w.WriteTo(Path.Combine(dir, "model.safetensors"));
        return dir;
    }
}
