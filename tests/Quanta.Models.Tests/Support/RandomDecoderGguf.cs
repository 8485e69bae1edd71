using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Tests.Support;

/// <summary>
/// Shape, storage and architecture options of a random-weight decoder GGUF test model (any of the llama.cpp
/// architectures llama, qwen2, qwen3, phi3, gemma2, gemma3; the flags say which tensors and keys to write).
/// </summary>
public sealed record RandomDecoderSpec(string Arch, GgmlType Type)
{
    public int Dim { get; init; } = 256;
    public int Ffn { get; init; } = 256;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    /// <summary>0 means Dim/Heads (then no key_length is written).</summary>
    public int HeadDimOverride { get; init; }
    public int Layers { get; init; } = 2;
    public int Vocab { get; init; } = 512;
    public int Context { get; init; } = 256;
    public float Eps { get; init; } = 1e-6f;
    public float FreqBase { get; init; } = 10000f;
    public int Seed { get; init; } = 20240611;
    public bool Tied { get; init; } = true;
    /// <summary>attn_q/k/v.bias (Qwen2).</summary>
    public bool QkvBias { get; init; }
    /// <summary>attn_q_norm / attn_k_norm (Qwen3, Gemma 3).</summary>
    public bool QkNorm { get; init; }
    /// <summary>One attn_qkv tensor instead of attn_q/k/v (Phi-3).</summary>
    public bool FusedQkv { get; init; }
    /// <summary>ffn_up holds [gate; up] and there is no ffn_gate (Phi-3).</summary>
    public bool FusedGateUp { get; init; }
    /// <summary>post_attention_norm and post_ffw_norm (Gemma 2/3).</summary>
    public bool PostNorms { get; init; }
    /// <summary>{arch}.attention.sliding_window when &gt;= 0.</summary>
    public int SlidingWindow { get; init; } = -1;
    /// <summary>{arch}.attn_logit_softcapping when &gt; 0.</summary>
    public float AttnSoftCap { get; init; }
    /// <summary>{arch}.final_logit_softcapping when &gt; 0.</summary>
    public float FinalSoftCap { get; init; }
    /// <summary>Control tokens that replace the last entries of the vocabulary (llama.cpp looks some up by text for some architectures).</summary>
    public string[] SpecialTokens { get; init; } = [];
    public int HeadDim => HeadDimOverride > 0 ? HeadDimOverride : Dim / Heads;
}

/// <summary>
/// Writes a random-weight GGUF that llama.cpp loads: the architecture's hyper-parameter keys, a SentencePiece ("llama")
/// tokenizer made of the first <see cref="RandomDecoderSpec.Vocab"/> entries of llama.cpp's ggml-vocab-llama-spm.gguf
/// (llama.cpp accepts any tokenizer with any architecture), norms and biases in F32 and every matrix in
/// <see cref="RandomDecoderSpec.Type"/>, quantized with Quanta's codecs (bit-identical to ggml's reference quantizers),
/// so both engines read the very same bytes. Tensor names are llama.cpp's (llama-arch.cpp).
/// </summary>
public static class RandomDecoderGguf
{
    public static string Write(RandomDecoderSpec s, string path)
    {
        var rng = new Random(s.Seed);
        var w = new GgufWriter();
        string p = s.Arch + ".";
        w.Add("general.architecture", s.Arch);
        w.Add("general.name", $"quanta-random-{s.Arch}-{s.Type}");
        w.Add(p + "context_length", (uint)s.Context);
        w.Add(p + "embedding_length", (uint)s.Dim);
        w.Add(p + "block_count", (uint)s.Layers);
        w.Add(p + "feed_forward_length", (uint)s.Ffn);
        w.Add(p + "attention.head_count", (uint)s.Heads);
        w.Add(p + "attention.head_count_kv", (uint)s.KvHeads);
        if (s.HeadDimOverride > 0)
        {
            w.Add(p + "attention.key_length", (uint)s.HeadDim);
            w.Add(p + "attention.value_length", (uint)s.HeadDim);
        }
        w.Add(p + "attention.layer_norm_rms_epsilon", s.Eps);
        w.Add(p + "rope.dimension_count", (uint)s.HeadDim);
        w.Add(p + "rope.freq_base", s.FreqBase);
        w.Add(p + "vocab_size", (uint)s.Vocab);
        if (s.SlidingWindow >= 0) w.Add(p + "attention.sliding_window", (uint)s.SlidingWindow);
        if (s.AttnSoftCap > 0) w.Add(p + "attn_logit_softcapping", s.AttnSoftCap);
        if (s.FinalSoftCap > 0) w.Add(p + "final_logit_softcapping", s.FinalSoftCap);
        using (var vocab = GgufFile.Open(SharedData.Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")))
        {
            w.Add("tokenizer.ggml.model", "llama");
            string[] tokens = vocab.Get<GgufArray>("tokenizer.ggml.tokens").AsSpan<string>()[..s.Vocab].ToArray();
            float[] scores = vocab.GetArray<float>("tokenizer.ggml.scores")[..s.Vocab].ToArray();
            int[] types = vocab.GetArray<int>("tokenizer.ggml.token_type")[..s.Vocab].ToArray();
            for (int i = 0; i < s.SpecialTokens.Length; i++)
            {
                int id = s.Vocab - s.SpecialTokens.Length + i;
                (tokens[id], scores[id], types[id]) = (s.SpecialTokens[i], 0f, 3);
            }
            w.AddArray("tokenizer.ggml.tokens", tokens);
            w.AddArray("tokenizer.ggml.scores", scores);
            w.AddArray("tokenizer.ggml.token_type", types);
            w.Add("tokenizer.ggml.bos_token_id", 1u);
            w.Add("tokenizer.ggml.eos_token_id", 2u);
            w.Add("tokenizer.ggml.unknown_token_id", 0u);
        }

        float[] Random(int n, float center, float amplitude)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = center + (float)(rng.NextDouble() * 2 - 1) * amplitude;
            return v;
        }
        void Matrix(string name, int rows, int cols, float amplitude)
        {
            float[] values = Random(rows * cols, 0f, amplitude);
            IRowCodec codec = CodecRegistry.For(s.Type);
            long rb = codec.RowBytes(cols);
            var bytes = new byte[rb * rows];
            for (int r = 0; r < rows; r++) codec.Quantize(values.AsSpan(r * cols, cols), bytes.AsSpan((int)(r * rb), (int)rb));
            w.AddTensor(name, s.Type, [cols, rows], bytes);
        }
        void Vector(string name, float[] values) => w.AddTensor(name, GgmlType.F32, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()));
        void Norm(string name, int n) => Vector(name, Random(n, 1f, 0.2f));

        int d = s.Dim, qd = s.Heads * s.HeadDim, kvd = s.KvHeads * s.HeadDim;
        float a = 1.7f / MathF.Sqrt(d);
        Matrix("token_embd.weight", s.Vocab, d, 1f);
        Norm("output_norm.weight", d);
        if (!s.Tied) Matrix("output.weight", s.Vocab, d, 0.5f);
        for (int l = 0; l < s.Layers; l++)
        {
            string b = $"blk.{l}.";
            Norm(b + "attn_norm.weight", d);
            if (s.FusedQkv)
            {
                // rows [Q (2a); K (2a); V (a)] in one matrix: write with the Q/K amplitude throughout
                Matrix(b + "attn_qkv.weight", qd + 2 * kvd, d, 2f * a);
            }
            else
            {
                Matrix(b + "attn_q.weight", qd, d, 2f * a);
                Matrix(b + "attn_k.weight", kvd, d, 2f * a);
                Matrix(b + "attn_v.weight", kvd, d, a);
            }
            if (s.QkvBias)
            {
                Vector(b + "attn_q.bias", Random(qd, 0f, 0.5f));
                Vector(b + "attn_k.bias", Random(kvd, 0f, 0.5f));
                Vector(b + "attn_v.bias", Random(kvd, 0f, 0.5f));
            }
            if (s.QkNorm)
            {
                Norm(b + "attn_q_norm.weight", s.HeadDim);
                Norm(b + "attn_k_norm.weight", s.HeadDim);
            }
            Matrix(b + "attn_output.weight", d, qd, a);
            if (s.PostNorms) Norm(b + "post_attention_norm.weight", d);
            Norm(b + "ffn_norm.weight", d);
            if (s.FusedGateUp)
            {
                Matrix(b + "ffn_up.weight", 2 * s.Ffn, d, a);
            }
            else
            {
                Matrix(b + "ffn_gate.weight", s.Ffn, d, a);
                Matrix(b + "ffn_up.weight", s.Ffn, d, a);
            }
            Matrix(b + "ffn_down.weight", d, s.Ffn, 1.7f / MathF.Sqrt(s.Ffn));
            if (s.PostNorms) Norm(b + "post_ffw_norm.weight", d);
        }
        w.WriteTo(path);
        return path;
    }
}
