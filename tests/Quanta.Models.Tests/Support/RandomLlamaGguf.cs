using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;

namespace Quanta.Models.Tests.Support;

/// <summary>Shape and storage choices of a random-weight llama GGUF test model.</summary>
public sealed record RandomLlamaSpec(GgmlType Type, bool Tied = false, bool RopeFreqs = false, float FreqBase = 10000f)
{
    public int Dim { get; init; } = 256;
    public int Ffn { get; init; } = 512;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int Layers { get; init; } = 2;
    public int Vocab { get; init; } = 1024;
    public int Context { get; init; } = 256;
    public float Eps { get; init; } = 1e-5f;
    public int Seed { get; init; } = 20240611;
    public int HeadDim => Dim / Heads;
}

/// <summary>
/// Writes a llama-architecture GGUF with random weights that llama.cpp loads: all llama.* hyper-parameters, a
/// SentencePiece ("llama") tokenizer made of the first <see cref="RandomLlamaSpec.Vocab"/> entries of llama.cpp's
/// ggml-vocab-llama-spm.gguf (tokens, scores, token types: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens, then
/// pieces), norms in F32 and every matrix in <see cref="RandomLlamaSpec.Type"/>, quantized with Quanta's codecs
/// (bit-identical to ggml's reference quantizers), so both engines read the very same bytes.
/// </summary>
public static class RandomLlamaGguf
{
    public static string Write(RandomLlamaSpec s, string path)
    {
        var rng = new Random(s.Seed);
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("general.name", $"quanta-random-{s.Type}");
        w.Add("llama.context_length", (uint)s.Context);
        w.Add("llama.embedding_length", (uint)s.Dim);
        w.Add("llama.block_count", (uint)s.Layers);
        w.Add("llama.feed_forward_length", (uint)s.Ffn);
        w.Add("llama.attention.head_count", (uint)s.Heads);
        w.Add("llama.attention.head_count_kv", (uint)s.KvHeads);
        w.Add("llama.attention.layer_norm_rms_epsilon", s.Eps);
        w.Add("llama.rope.dimension_count", (uint)s.HeadDim);
        w.Add("llama.rope.freq_base", s.FreqBase);
        w.Add("llama.vocab_size", (uint)s.Vocab);
        using (var vocab = GgufFile.Open(SharedData.Get("testdata/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")))
        {
            w.Add("tokenizer.ggml.model", "llama");
            w.AddArray("tokenizer.ggml.tokens", vocab.Get<GgufArray>("tokenizer.ggml.tokens").AsSpan<string>()[..s.Vocab]);
            w.AddArray("tokenizer.ggml.scores", vocab.GetArray<float>("tokenizer.ggml.scores")[..s.Vocab]);
            w.AddArray("tokenizer.ggml.token_type", vocab.GetArray<int>("tokenizer.ggml.token_type")[..s.Vocab]);
            w.Add("tokenizer.ggml.bos_token_id", 1u);
            w.Add("tokenizer.ggml.eos_token_id", 2u);
            w.Add("tokenizer.ggml.unknown_token_id", 0u);
        }

        void Matrix(string name, int rows, int cols, float amplitude)
        {
            var values = new float[rows * cols];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * amplitude;
            IRowCodec codec = CodecRegistry.For(s.Type);
            long rb = codec.RowBytes(cols);
            var bytes = new byte[rb * rows];
            for (int r = 0; r < rows; r++) codec.Quantize(values.AsSpan(r * cols, cols), bytes.AsSpan((int)(r * rb), (int)rb));
            w.AddTensor(name, s.Type, [cols, rows], bytes);
        }
        void Norm(string name, int n)
        {
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = 1f + (float)(rng.NextDouble() * 2 - 1) * 0.2f;
            w.AddTensor(name, GgmlType.F32, [n], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }

        int d = s.Dim, qd = s.Heads * s.HeadDim, kvd = s.KvHeads * s.HeadDim;
        float a = 1.7f / MathF.Sqrt(d);
        Matrix("token_embd.weight", s.Vocab, d, 1f);
        Norm("output_norm.weight", d);
        if (!s.Tied) Matrix("output.weight", s.Vocab, d, 0.5f);
        if (s.RopeFreqs)
        {
            // Llama 3.1-like divisors: 1 for high frequencies rising to 8 for the lowest ones.
            var ff = new float[s.HeadDim / 2];
            for (int i = 0; i < ff.Length; i++) ff[i] = 1f + 7f * i / (ff.Length - 1);
            w.AddTensor("rope_freqs.weight", GgmlType.F32, [ff.Length], System.Runtime.InteropServices.MemoryMarshal.AsBytes(ff.AsSpan()));
        }
        for (int l = 0; l < s.Layers; l++)
        {
            string b = $"blk.{l}.";
            Norm(b + "attn_norm.weight", d);
            Matrix(b + "attn_q.weight", qd, d, 2f * a);
            Matrix(b + "attn_k.weight", kvd, d, 2f * a);
            Matrix(b + "attn_v.weight", kvd, d, a);
            Matrix(b + "attn_output.weight", d, qd, a);
            Norm(b + "ffn_norm.weight", d);
            Matrix(b + "ffn_gate.weight", s.Ffn, d, a);
            Matrix(b + "ffn_up.weight", s.Ffn, d, a);
            Matrix(b + "ffn_down.weight", d, s.Ffn, 1.7f / MathF.Sqrt(s.Ffn));
        }
        w.WriteTo(path);
        return path;
    }
}
