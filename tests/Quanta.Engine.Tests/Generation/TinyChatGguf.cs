using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Engine.Tests.Generation;

/// <summary>
/// Writes a small random-weight llama GGUF (F32) whose tokenizer is the first 1024 entries of llama.cpp's
/// ggml-vocab-llama-spm.gguf, with a chat template in tokenizer.chat_template.
/// </summary>
internal static class TinyChatGguf
{
    public const string Template =
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    /// <summary>
    /// Writes the model to <paramref name="path"/>. With <paramref name="wordPiece"/> the tokenizer is instead a made-up
    /// 1024-token WordPiece (bert) vocabulary, which has no end-of-generation token.
    /// </summary>
    public static string Write(string path, string? template = Template, string architecture = "llama", bool wordPiece = false)
    {
        const int dim = 64, ffn = 128, heads = 4, kvHeads = 2, layers = 1, vocab = 1024, context = 128;
        var rng = new Random(12345);
        var w = new GgufWriter();
        w.Add("general.architecture", architecture);
        w.Add("general.name", "tiny-chat");
        w.Add(architecture + ".context_length", (uint)context);
        w.Add(architecture + ".embedding_length", (uint)dim);
        w.Add(architecture + ".block_count", (uint)layers);
        w.Add(architecture + ".feed_forward_length", (uint)ffn);
        w.Add(architecture + ".attention.head_count", (uint)heads);
        w.Add(architecture + ".attention.head_count_kv", (uint)kvHeads);
        w.Add(architecture + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add(architecture + ".rope.dimension_count", (uint)(dim / heads));
        w.Add(architecture + ".vocab_size", (uint)vocab);
        if (wordPiece)
        {
            // [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103 (bert's ids), made-up words elsewhere
            var tokens = new string[vocab];
            var types = new int[vocab];
            for (int i = 0; i < vocab; i++)
            {
                (tokens[i], types[i]) = i switch { 0 => ("[PAD]", 3), 100 => ("[UNK]", 2), 101 => ("[CLS]", 3), 102 => ("[SEP]", 3), 103 => ("[MASK]", 3), _ => ($"w{i}", 1) };
            }
            w.Add("tokenizer.ggml.model", "bert");
            w.AddArray("tokenizer.ggml.tokens", tokens);
            w.AddArray("tokenizer.ggml.token_type", types);
        }
        else
        {
            using var v = GgufFile.Open(TestData.Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
            w.Add("tokenizer.ggml.model", "llama");
            w.AddArray("tokenizer.ggml.tokens", v.Get<GgufArray>("tokenizer.ggml.tokens").AsSpan<string>()[..vocab]);
            w.AddArray("tokenizer.ggml.scores", v.GetArray<float>("tokenizer.ggml.scores")[..vocab]);
            w.AddArray("tokenizer.ggml.token_type", v.GetArray<int>("tokenizer.ggml.token_type")[..vocab]);
            w.Add("tokenizer.ggml.bos_token_id", 1u);
            w.Add("tokenizer.ggml.eos_token_id", 2u);
            w.Add("tokenizer.ggml.unknown_token_id", 0u);
        }
        if (template is not null) w.Add("tokenizer.chat_template", template);

        void Tensor(string name, int rows, int cols, float center, float amplitude)
        {
            var values = new float[rows * cols];
            for (int i = 0; i < values.Length; i++) values[i] = center + (float)(rng.NextDouble() * 2 - 1) * amplitude;
            long[] shape = rows == 1 ? [cols] : [cols, rows];
            w.AddTensor(name, GgmlType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()));
        }
        float a = 1.7f / MathF.Sqrt(dim);
        Tensor("token_embd.weight", vocab, dim, 0, 1);
        Tensor("output_norm.weight", 1, dim, 1, 0.2f);
        Tensor("output.weight", vocab, dim, 0, 0.5f);
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.";
            Tensor(b + "attn_norm.weight", 1, dim, 1, 0.2f);
            Tensor(b + "attn_q.weight", dim, dim, 0, 2 * a);
            Tensor(b + "attn_k.weight", dim / heads * kvHeads, dim, 0, 2 * a);
            Tensor(b + "attn_v.weight", dim / heads * kvHeads, dim, 0, a);
            Tensor(b + "attn_output.weight", dim, dim, 0, a);
            Tensor(b + "ffn_norm.weight", 1, dim, 1, 0.2f);
            Tensor(b + "ffn_gate.weight", ffn, dim, 0, a);
            Tensor(b + "ffn_up.weight", ffn, dim, 0, a);
            Tensor(b + "ffn_down.weight", dim, ffn, 0, 1.7f / MathF.Sqrt(ffn));
        }
        w.WriteTo(path);
        return path;
    }
}
