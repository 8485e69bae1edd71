using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Server.Tests;

/// <summary>Shared test data (../shared above the binaries) and a tiny random-weight chat GGUF written once per process.</summary>
internal static class TestModels
{
    private static readonly Lazy<string> Chat = new(WriteChatGguf);

    public static string Get(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"test data file missing: shared/{relative}");
    }

    public static string Stories => Get("testdata/llama2c/stories260K.bin");

    public static string Tok512 => Get("testdata/llama2c/tok512.bin");

    /// <summary>llama2.c's published greedy sample from BOS (256 tokens, then "\n").</summary>
    public static string GreedyText => File.ReadAllText(Get("testdata/llama2c/stories260K.greedy.txt"));

    /// <summary>Path of "tiny-chat.gguf": llama, 1 layer, dim 64, vocab = first 1024 llama-spm tokens, context 128, a chat template.</summary>
    public static string ChatGguf => Chat.Value;

    public const string Template =
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    private static string WriteChatGguf()
    {
        const int dim = 64, ffn = 128, heads = 4, kvHeads = 2, vocab = 1024, context = 128;
        string dir = Path.Combine(Path.GetTempPath(), "quanta-server-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        // the servers map the file until the test process ends; remove it then (every run left one folder behind before)
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
        string path = Path.Combine(dir, "tiny-chat.gguf");
        var rng = new Random(12345);
        var w = new GgufWriter();
        const string a = "llama";
        w.Add("general.architecture", a);
        w.Add("general.name", "tiny-chat");
        w.Add(a + ".context_length", (uint)context);
        w.Add(a + ".embedding_length", (uint)dim);
        w.Add(a + ".block_count", 1u);
        w.Add(a + ".feed_forward_length", (uint)ffn);
        w.Add(a + ".attention.head_count", (uint)heads);
        w.Add(a + ".attention.head_count_kv", (uint)kvHeads);
        w.Add(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add(a + ".rope.dimension_count", (uint)(dim / heads));
        w.Add(a + ".vocab_size", (uint)vocab);
        using (var v = GgufFile.Open(Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")))
        {
            w.Add("tokenizer.ggml.model", "llama");
            w.AddArray("tokenizer.ggml.tokens", v.Get<GgufArray>("tokenizer.ggml.tokens").AsSpan<string>()[..vocab]);
            w.AddArray("tokenizer.ggml.scores", v.GetArray<float>("tokenizer.ggml.scores")[..vocab]);
            w.AddArray("tokenizer.ggml.token_type", v.GetArray<int>("tokenizer.ggml.token_type")[..vocab]);
            w.Add("tokenizer.ggml.bos_token_id", 1u);
            w.Add("tokenizer.ggml.eos_token_id", 2u);
            w.Add("tokenizer.ggml.unknown_token_id", 0u);
        }
        w.Add("tokenizer.chat_template", Template);
        void Tensor(string name, int rows, int cols, float center, float amplitude)
        {
            var values = new float[rows * cols];
            for (int i = 0; i < values.Length; i++) values[i] = center + (float)(rng.NextDouble() * 2 - 1) * amplitude;
            long[] shape = rows == 1 ? [cols] : [cols, rows];
            w.AddTensor(name, GgmlType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()));
        }
        float s = 1.7f / MathF.Sqrt(dim);
        Tensor("token_embd.weight", vocab, dim, 0, 1);
        Tensor("output_norm.weight", 1, dim, 1, 0.2f);
        Tensor("output.weight", vocab, dim, 0, 0.5f);
        Tensor("blk.0.attn_norm.weight", 1, dim, 1, 0.2f);
        Tensor("blk.0.attn_q.weight", dim, dim, 0, 2 * s);
        Tensor("blk.0.attn_k.weight", dim / heads * kvHeads, dim, 0, 2 * s);
        Tensor("blk.0.attn_v.weight", dim / heads * kvHeads, dim, 0, s);
        Tensor("blk.0.attn_output.weight", dim, dim, 0, s);
        Tensor("blk.0.ffn_norm.weight", 1, dim, 1, 0.2f);
        Tensor("blk.0.ffn_gate.weight", ffn, dim, 0, s);
        Tensor("blk.0.ffn_up.weight", ffn, dim, 0, s);
        Tensor("blk.0.ffn_down.weight", dim, ffn, 0, 1.7f / MathF.Sqrt(ffn));
        w.WriteTo(path);
        return path;
    }
}
