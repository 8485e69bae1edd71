using System.Runtime.InteropServices;
using System.Text.Json;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Safetensors;
using Quanta.Models.Architectures;

namespace Quanta.Models.Conversion;

/// <summary>
/// Converts a Hugging Face Llama-family checkpoint (config.json + safetensors in F32/F16/BF16; architectures
/// LlamaForCausalLM or MistralForCausalLM) to a llama GGUF, as llama.cpp's convert_hf_to_gguf.py does:
/// tensor names mapped to llama.cpp's, q_proj/k_proj rows permuted from the rotate-half layout to the adjacent-pair
/// layout (<see cref="LlamaQkPermutation"/>; k with the KV head count), norms and biases in F32, Llama-3 rope
/// scaling written as the rope_freqs tensor, and the tokenizer from tokenizer.json when the folder has one
/// (<see cref="GgufTokenizerMetadata.WriteHuggingFace"/>).
/// </summary>
public static class HuggingFaceToGguf
{
    private static readonly string[] s_architectures = ["LlamaForCausalLM", "MistralForCausalLM"];

    /// <summary>
    /// Writes <paramref name="destination"/> from the checkpoint at <paramref name="source"/> (folder, .safetensors
    /// file or index). <paramref name="outType"/> Source keeps the dtype of the source matrices.
    /// </summary>
    public static void Convert(string source, string destination, GgufOutputType outType = GgufOutputType.Source, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        string dir = Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!;
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"config.json not found next to {source}", configPath);
        ModelConfig c;
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(configPath)))
        {
            JsonElement root = doc.RootElement;
            string[] archs = root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
                ? a.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : [];
            if (!archs.Any(s_architectures.Contains))
                throw new NotSupportedException($"convert supports {string.Join(", ", s_architectures)} checkpoints; {configPath} names [{string.Join(", ", archs)}]");
            c = HuggingFaceConventions.ReadConfig(root, "llama");
        }
        using var ckpt = SafetensorsCheckpoint.Open(source);

        GgmlType matrixType = outType != GgufOutputType.Source ? GgufOutputTypes.ToGgml(outType)
            : ckpt.GetTensor("model.embed_tokens.weight", out _).DType switch
            {
                SafetensorsDType.F16 => GgmlType.F16,
                SafetensorsDType.BF16 => GgmlType.BF16,
                _ => GgmlType.F32,
            };

        var w = new GgufWriter();
        LlamaGgufMetadata.Write(w, c, new DirectoryInfo(dir).Name, GgufOutputTypes.FileType(matrixType));
        string tokenizerJson = Path.Combine(dir, "tokenizer.json");
        if (File.Exists(tokenizerJson)) GgufTokenizerMetadata.WriteHuggingFace(w, tokenizerJson, c.VocabSize);
        else log?.Invoke($"warning: no tokenizer.json in {dir}; the GGUF has no tokenizer (llama.cpp cannot tokenize text with it)");

        bool hasOutput = !c.TiedOutput && ckpt.Contains("lm_head.weight");
        int total = 2 + (hasOutput ? 1 : 0) + (c.RopeLlama3 != null ? 1 : 0) + c.Layers * (9 + (c.QkvBias ? 3 : 0)), done = 0;
        void Matrix(string gguf, string hf, int rows, int cols, int permuteHeads = 0)
        {
            float[] values = ReadF32(ckpt, hf, rows, cols);
            if (permuteHeads > 0) values = Permuted(values, permuteHeads, cols);
            w.AddTensor(gguf, matrixType, [cols, rows], TensorEncoding.Encode(values, rows, cols, matrixType));
            log?.Invoke($"[{++done,4}/{total}] {hf,-48} -> {gguf,-28} {matrixType,-5} [{cols}, {rows}]");
        }
        void Vector(string gguf, string hf, int n, int permuteHeads = 0)
        {
            float[] values = ReadF32(ckpt, hf, n, 1);
            if (permuteHeads > 0) values = Permuted(values, permuteHeads, 1);
            w.AddTensor(gguf, GgmlType.F32, [n], MemoryMarshal.AsBytes(values.AsSpan()));
            log?.Invoke($"[{++done,4}/{total}] {hf,-48} -> {gguf,-28} F32   [{n}]");
        }

        int d = c.EmbeddingLength;
        Matrix("token_embd.weight", "model.embed_tokens.weight", c.VocabSize, d);
        Vector("output_norm.weight", "model.norm.weight", d);
        if (hasOutput) Matrix("output.weight", "lm_head.weight", c.VocabSize, d);
        if (c.RopeLlama3 is { } r)
        {
            var ff = new float[c.Rope.RotaryDims / 2];
            RopeScaling.Llama3FrequencyFactors(c.Rope.RotaryDims, c.Rope.FreqBase, r.Factor, r.LowFreqFactor, r.HighFreqFactor, r.OriginalMaxPositions, ff);
            w.AddTensor("rope_freqs.weight", GgmlType.F32, [ff.Length], MemoryMarshal.AsBytes(ff.AsSpan()));
            log?.Invoke($"[{++done,4}/{total}] {"(llama3 rope scaling)",-48} -> {"rope_freqs.weight",-28} F32   [{ff.Length}]");
        }
        for (int l = 0; l < c.Layers; l++)
        {
            string h = $"model.layers.{l}.", b = $"blk.{l}.";
            Vector(b + "attn_norm.weight", h + "input_layernorm.weight", d);
            Matrix(b + "attn_q.weight", h + "self_attn.q_proj.weight", c.QueryDim, d, c.Heads);
            Matrix(b + "attn_k.weight", h + "self_attn.k_proj.weight", c.KvDim, d, c.KvHeads);
            Matrix(b + "attn_v.weight", h + "self_attn.v_proj.weight", c.KvDim, d);
            if (c.QkvBias)
            {
                Vector(b + "attn_q.bias", h + "self_attn.q_proj.bias", c.QueryDim, c.Heads);
                Vector(b + "attn_k.bias", h + "self_attn.k_proj.bias", c.KvDim, c.KvHeads);
                Vector(b + "attn_v.bias", h + "self_attn.v_proj.bias", c.KvDim);
            }
            Matrix(b + "attn_output.weight", h + "self_attn.o_proj.weight", d, c.QueryDim);
            Vector(b + "ffn_norm.weight", h + "post_attention_layernorm.weight", d);
            Matrix(b + "ffn_gate.weight", h + "mlp.gate_proj.weight", c.FeedForwardLength, d);
            Matrix(b + "ffn_up.weight", h + "mlp.up_proj.weight", c.FeedForwardLength, d);
            Matrix(b + "ffn_down.weight", h + "mlp.down_proj.weight", d, c.FeedForwardLength);
        }
        GgufFiles.WriteAtomically(w, destination);
    }

    private static float[] Permuted(float[] values, int heads, int cols)
    {
        var dst = new float[values.Length];
        LlamaQkPermutation.ToGgufLayout(values, dst, heads, cols);
        return dst;
    }

    /// <summary>Reads an F32/F16/BF16 tensor of <paramref name="rows"/>·<paramref name="cols"/> elements as F32.</summary>
    internal static float[] ReadF32(SafetensorsCheckpoint ckpt, string name, long rows, long cols)
    {
        if (!ckpt.Contains(name)) throw new ModelFileException(name, $"tensor '{name}' is missing from the checkpoint");
        SafetensorsTensorInfo info = ckpt.GetTensor(name, out _);
        if (info.ElementCount != rows * cols)
            throw new ModelFileException(name, $"tensor '{name}' has shape [{string.Join(", ", info.Shape.ToArray())}], expected {rows}x{cols} elements");
        ReadOnlySpan<byte> data = ckpt.GetTensorData(name);
        var dst = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafetensorsDType.F32: MemoryMarshal.Cast<byte, float>(data).CopyTo(dst); break;
            case SafetensorsDType.F16: F16Conversion.ToSingleRow(MemoryMarshal.Cast<byte, ushort>(data), dst); break;
            case SafetensorsDType.BF16: BF16Conversion.ToSingleRow(MemoryMarshal.Cast<byte, ushort>(data), dst); break;
            default: throw new NotSupportedException($"tensor '{name}' has dtype {info.DType}; convert reads F32, F16 and BF16");
        }
        return dst;
    }
}
