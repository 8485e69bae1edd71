using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Integer;
using Quanta.Core.ModelFiles.Safetensors;

namespace Quanta.Models.Conversion;

/// <summary>Weight-only formats of <see cref="CompressedTensorsQuantizer"/>.</summary>
public enum CompressedTensorsScheme
{
    /// <summary>FP8 E4M3 weights, one scale per output channel ("float-quantized", strategy "channel").</summary>
    Fp8,

    /// <summary>Symmetric INT8 weights, one scale per output channel ("int-quantized", strategy "channel").</summary>
    Int8,
}

/// <summary>
/// Hugging Face safetensors → safetensors in the compressed-tensors layout (llm-compressor / vLLM), weight-only,
/// per output channel. Every 2-D weight under model.layers. (the Linear layers; lm_head, embeddings and norms are
/// left as they are) is stored as
/// <list type="bullet">
/// <item>FP8: <c>weight</c> F8_E4M3 [out, in] = E4M3(w / s) saturating, <c>weight_scale</c> F32 [out, 1] with
/// s = amax(row)/448 (<see cref="Fp8Quantization.QuantizePerChannel"/>).</item>
/// <item>INT8: <c>weight</c> I8 [out, in] = clamp(round_half_even(w / s), ±127), <c>weight_scale</c> F32 [out, 1] with
/// s = amax(row)/127 (<see cref="Int8RowCodec"/>); symmetric, so no zero point is stored.</item>
/// </list>
/// The destination folder gets model.safetensors, config.json with a "quantization_config" block describing the
/// scheme (quant_method "compressed-tensors", format float-quantized / int-quantized, ignore ["lm_head"]), and a copy
/// of every other file of the source folder (tokenizer.json, tokenizer_config.json, generation_config.json, ...).
/// </summary>
public static class CompressedTensorsQuantizer
{
    /// <summary>Quantizes the checkpoint folder (or file) <paramref name="source"/> into the folder <paramref name="destination"/>.</summary>
    public static void Quantize(string source, string destination, CompressedTensorsScheme scheme, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (File.Exists(source) && !source.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !source.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{source} is not a safetensors checkpoint; FP8/INT8 quantization takes a Hugging Face folder (GGUF files take Q8_0, Q4_K, ...)");
        string dir = Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!;
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"config.json not found next to {source}", configPath);
        if (File.Exists(destination)) throw new ArgumentException($"destination {destination} is a file; FP8/INT8 output is a folder");
        if (Path.GetFullPath(dir).TrimEnd('/') == Path.GetFullPath(destination).TrimEnd('/'))
            throw new ArgumentException("destination folder must differ from the source folder");

        using var ckpt = SafetensorsCheckpoint.Open(source);
        var w = new SafetensorsWriter();
        w.AddMetadata("format", "pt");
        int i = 0, n = ckpt.TensorNames.Count;
        foreach (string name in ckpt.TensorNames)
        {
            SafetensorsTensorInfo info = ckpt.GetTensor(name, out _);
            if (!IsTarget(name, info))
            {
                w.AddTensor(name, info.DType, info.Shape, ckpt.GetTensorData(name));
                log?.Invoke($"[{++i,4}/{n}] {name,-52} {info.DType} (copied)");
                continue;
            }
            int rows = checked((int)info.Shape[0]), cols = checked((int)info.Shape[1]);
            float[] values = HuggingFaceToGguf.ReadF32(ckpt, name, rows, cols);
            var codes = new byte[(long)rows * cols];
            var scales = new float[rows];
            if (scheme == CompressedTensorsScheme.Fp8)
                Fp8Quantization.QuantizePerChannel(values, rows, cols, Fp8Format.E4M3, codes, scales);
            else
                QuantizeInt8(values, rows, cols, codes, scales);
            var dtype = scheme == CompressedTensorsScheme.Fp8 ? SafetensorsDType.F8_E4M3 : SafetensorsDType.I8;
            w.AddTensor(name, dtype, info.Shape, codes);
            string scaleName = name[..^"weight".Length] + "weight_scale";
            w.AddTensor(scaleName, SafetensorsDType.F32, [rows, 1], MemoryMarshal.AsBytes(scales.AsSpan()));
            log?.Invoke($"[{++i,4}/{n}] {name,-52} {info.DType} -> {dtype} + weight_scale [{rows}, 1]");
        }

        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(dir))
        {
            string fn = Path.GetFileName(file);
            if (fn.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || fn == SafetensorsCheckpoint.IndexFileName || fn == "config.json") continue;
            File.Copy(file, Path.Combine(destination, fn), overwrite: true);
        }
        File.WriteAllText(Path.Combine(destination, "config.json"), WithQuantizationConfig(File.ReadAllText(configPath), scheme));
        w.WriteTo(Path.Combine(destination, "model.safetensors"));
    }

    /// <summary>Whether a tensor is one of the Linear weights the scheme quantizes.</summary>
    public static bool IsTarget(string name, SafetensorsTensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(info);
        return info.Shape.Length == 2 && name.StartsWith("model.layers.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal)
            && !name.Contains("norm", StringComparison.Ordinal)
            && info.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;
    }

    private static void QuantizeInt8(float[] values, int rows, int cols, byte[] codes, float[] scales)
    {
        var row = new byte[Int8RowCodec.Instance.RowBytes(cols)];
        for (int r = 0; r < rows; r++)
        {
            Int8RowCodec.Instance.Quantize(values.AsSpan(r * cols, cols), row);
            scales[r] = Int8RowCodec.ReadScale(row);
            row.AsSpan(Int8RowCodec.HeaderBytes, cols).CopyTo(codes.AsSpan(r * cols, cols));
        }
    }

    /// <summary>config.json text with the compressed-tensors "quantization_config" block for <paramref name="scheme"/> (replacing any).</summary>
    public static string WithQuantizationConfig(string configJson, CompressedTensorsScheme scheme)
    {
        JsonObject root = JsonNode.Parse(configJson)?.AsObject() ?? throw new InvalidDataException("config.json is not a JSON object");
        var weights = new JsonObject
        {
            ["actorder"] = null,
            ["block_structure"] = null,
            ["dynamic"] = false,
            ["group_size"] = null,
            ["num_bits"] = 8,
            ["observer"] = "minmax",
            ["observer_kwargs"] = new JsonObject(),
            ["strategy"] = "channel",
            ["symmetric"] = true,
            ["type"] = scheme == CompressedTensorsScheme.Fp8 ? "float" : "int",
        };
        root["quantization_config"] = new JsonObject
        {
            ["config_groups"] = new JsonObject
            {
                ["group_0"] = new JsonObject
                {
                    ["input_activations"] = null,
                    ["output_activations"] = null,
                    ["targets"] = new JsonArray("Linear"),
                    ["weights"] = weights,
                },
            },
            ["format"] = scheme == CompressedTensorsScheme.Fp8 ? "float-quantized" : "int-quantized",
            ["global_compression_ratio"] = null,
            ["ignore"] = new JsonArray("lm_head"),
            ["kv_cache_scheme"] = null,
            ["quant_method"] = "compressed-tensors",
            ["quantization_status"] = "compressed",
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
