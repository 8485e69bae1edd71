using Quanta.Core.Formats;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Models.Architectures.Llama;

namespace Quanta.Models.Conversion;

/// <summary>
/// Converts a llama2.c checkpoint and its tokenizer .bin to a llama GGUF that llama.cpp loads.
/// <para>Weights: token_embedding_table → token_embd, rms_att_weight → blk.N.attn_norm, wq/wk/wv/wo → attn_q/k/v/output,
/// rms_ffn_weight → ffn_norm, w1/w3/w2 → ffn_gate/up/down, rms_final_weight → output_norm, wcls → output (omitted
/// when the classifier is shared; llama.cpp then reuses token_embd). llama2.c applies RoPE to adjacent pairs
/// (2i, 2i+1) within each head, which is GGUF llama's LLAMA_ROPE_TYPE_NORM, so Q/K rows are copied unpermuted
/// (the model's export.py already undid Hugging Face's permutation; the llama.cpp oracle test confirms).</para>
/// <para>Metadata: run.c's constants (RMS eps 1e-5, θ base 10000, full-head rotary dims), context = seq_len.</para>
/// </summary>
public static class Llama2cToGguf
{
    /// <summary>
    /// Writes <paramref name="destination"/>. Matrices are stored as <paramref name="outType"/> (Source = F32); norms stay
    /// F32. <paramref name="log"/> receives one line per tensor.
    /// </summary>
    public static void Convert(string checkpointPath, string tokenizerPath, string destination, GgufOutputType outType = GgufOutputType.Source,
        Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        ArgumentNullException.ThrowIfNull(tokenizerPath);
        ArgumentNullException.ThrowIfNull(destination);
        using var ckpt = Llama2cCheckpoint.Open(checkpointPath);
        Llama2cConfig h = ckpt.Config;
        var tokenizer = Llama2cTokenizer.Open(tokenizerPath, h.VocabSize);
        ModelConfig c = Llama2cLoader.ReadConfig(h);
        GgmlType matrixType = outType == GgufOutputType.Source ? GgmlType.F32 : GgufOutputTypes.ToGgml(outType);

        var w = new GgufWriter();
        LlamaGgufMetadata.Write(w, c, Path.GetFileNameWithoutExtension(checkpointPath), GgufOutputTypes.FileType(matrixType));
        GgufTokenizerMetadata.WriteLlama2c(w, tokenizer);

        int total = 3 + (h.SharedClassifier ? 0 : 1) + 9 * h.NLayers, done = 0;
        void Matrix(string name, ReadOnlySpan<float> values, int rows, int cols)
        {
            w.AddTensor(name, matrixType, [cols, rows], TensorEncoding.Encode(values, rows, cols, matrixType));
            log?.Invoke($"[{++done,4}/{total}] {name,-28} {matrixType,-5} [{cols}, {rows}]");
        }
        void Vector(string name, ReadOnlySpan<float> values)
        {
            w.AddTensor(name, GgmlType.F32, [values.Length], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            log?.Invoke($"[{++done,4}/{total}] {name,-28} F32   [{values.Length}]");
        }

        int d = h.Dim, kv = h.KvDim, ff = h.HiddenDim;
        Matrix("token_embd.weight", ckpt.GetWeights("token_embedding_table"), h.VocabSize, d);
        Vector("output_norm.weight", ckpt.GetWeights("rms_final_weight"));
        if (!h.SharedClassifier) Matrix("output.weight", ckpt.GetWeights("wcls"), h.VocabSize, d);
        for (int l = 0; l < h.NLayers; l++)
        {
            string b = $"blk.{l}.";
            Vector(b + "attn_norm.weight", ckpt.GetLayerWeights("rms_att_weight", l));
            Matrix(b + "attn_q.weight", ckpt.GetLayerWeights("wq", l), d, d);
            Matrix(b + "attn_k.weight", ckpt.GetLayerWeights("wk", l), kv, d);
            Matrix(b + "attn_v.weight", ckpt.GetLayerWeights("wv", l), kv, d);
            Matrix(b + "attn_output.weight", ckpt.GetLayerWeights("wo", l), d, d);
            Vector(b + "ffn_norm.weight", ckpt.GetLayerWeights("rms_ffn_weight", l));
            Matrix(b + "ffn_gate.weight", ckpt.GetLayerWeights("w1", l), ff, d);
            Matrix(b + "ffn_up.weight", ckpt.GetLayerWeights("w3", l), ff, d);
            Matrix(b + "ffn_down.weight", ckpt.GetLayerWeights("w2", l), d, ff);
        }
        GgufFiles.WriteAtomically(w, destination);
    }
}
