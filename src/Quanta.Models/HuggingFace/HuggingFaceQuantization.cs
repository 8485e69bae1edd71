using System.Globalization;
using System.Text.Json;
using Quanta.Core.Formats.Integer;

namespace Quanta.Models.HuggingFace;

/// <summary>Quantization method of a Hugging Face checkpoint (config.json quantization_config.quant_method).</summary>
public enum HuggingFaceQuantMethod
{
    /// <summary>No quantization_config: F32/F16/BF16 weights.</summary>
    None,

    /// <summary>"compressed-tensors" (llm-compressor): float-quantized (FP8), int-quantized (INT8), pack-quantized (INT4).</summary>
    CompressedTensors,

    /// <summary>"modelopt" (NVIDIA Model Optimizer), quant_algo FP8.</summary>
    ModelOpt,

    /// <summary>"gptq" (AutoGPTQ / GPTQModel / transformers), 4 bits.</summary>
    Gptq,

    /// <summary>"awq" (AutoAWQ), version "gemm", 4 bits.</summary>
    Awq,
}

/// <summary>
/// The quantization_config of a Hugging Face checkpoint, validated against what Quanta can load. Parsing rejects anything
/// else with a <see cref="NotSupportedException"/> that names the quant_method / format / key.
/// <para>Accepted configurations (layouts as published by the producing tools; the tensor layouts are documented on
/// <see cref="QuantizedTensorLoader"/>):</para>
/// <list type="bullet">
/// <item>compressed-tensors: <c>{quant_method: "compressed-tensors", format, config_groups: {name: {targets,
/// weights: {num_bits, type, strategy, group_size, symmetric}, input_activations?}}, ignore: [...]}</c>; the format may
/// also sit inside each group (newer releases). "float-quantized" with weights {num_bits 8, type "float", strategy
/// "tensor" | "channel"}; "int-quantized" with {num_bits 8, type "int", strategy "channel" | "tensor"}; "pack-quantized"
/// with {num_bits 4, type "int", strategy "group", group_size 32 | 64 | 128}. Input activation settings (static
/// input_scale or dynamic) are ignored: Quanta quantizes activations itself.</item>
/// <item>modelopt: <c>{quant_method: "modelopt", quant_algo: "FP8"}</c> in config.json, or hf_quant_config.json
/// <c>{quantization: {quant_algo: "FP8"}}</c> beside it (vLLM detects ModelOpt through that file);
/// "FP8_PER_CHANNEL_PER_TOKEN" is accepted too (per-channel weight scales).</item>
/// <item>gptq: <c>{quant_method: "gptq", bits: 4, group_size: 32 | 64 | 128, desc_act, sym, checkpoint_format: "gptq" |
/// "gptq_v2"}</c>; desc_act checkpoints load only when g_idx is the trivial i / group_size.</item>
/// <item>awq: <c>{quant_method: "awq", bits (or w_bit): 4, group_size (or q_group_size): 32 | 64 | 128, version: "gemm",
/// zero_point: true}</c>.</item>
/// </list>
/// </summary>
public sealed record HuggingFaceQuantization
{
    /// <summary>No quantization.</summary>
    public static HuggingFaceQuantization None { get; } = new() { Method = HuggingFaceQuantMethod.None, Description = "none" };

    /// <summary>The method.</summary>
    public required HuggingFaceQuantMethod Method { get; init; }

    /// <summary>compressed-tensors format ("float-quantized", "int-quantized", "pack-quantized"), else null.</summary>
    public string? Format { get; init; }

    /// <summary>Group size of INT4 methods (32, 64 or 128), else 0.</summary>
    public int GroupSize { get; init; }

    /// <summary>GPTQ zero-point convention ("gptq" = V1, "gptq_v2" = V2).</summary>
    public GptqCheckpointFormat GptqFormat { get; init; } = GptqCheckpointFormat.V1;

    /// <summary>Short description for messages, e.g. "gptq bits=4 group_size=128".</summary>
    public required string Description { get; init; }

    /// <summary>
    /// Reads config.json (and hf_quant_config.json when present) in <paramref name="directory"/>; None when neither
    /// declares quantization or config.json is absent.
    /// </summary>
    public static HuggingFaceQuantization ForDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string config = Path.Combine(directory, "config.json");
        if (File.Exists(config))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
            var q = Parse(doc.RootElement);
            if (q.Method != HuggingFaceQuantMethod.None) return q;
        }
        string modelOpt = Path.Combine(directory, "hf_quant_config.json");
        if (File.Exists(modelOpt))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(modelOpt));
            if (doc.RootElement.TryGetProperty("quantization", out var qe) && qe.ValueKind == JsonValueKind.Object)
                return ParseModelOpt(qe, "hf_quant_config.json quantization");
            throw new NotSupportedException("hf_quant_config.json has no 'quantization' object");
        }
        return None;
    }

    /// <summary>Parses the quantization_config of a config.json root (None when the key is absent or null).</summary>
    public static HuggingFaceQuantization Parse(JsonElement configRoot)
    {
        if (!configRoot.TryGetProperty("quantization_config", out var q) || q.ValueKind == JsonValueKind.Null) return None;
        if (q.ValueKind != JsonValueKind.Object) throw new NotSupportedException("config.json quantization_config is not an object");
        string method = Str(q, "quant_method") ?? throw new NotSupportedException("config.json quantization_config has no 'quant_method'");
        return method.ToLowerInvariant() switch
        {
            "compressed-tensors" => ParseCompressedTensors(q),
            "modelopt" => ParseModelOpt(q, "quantization_config"),
            "gptq" => ParseGptq(q),
            "awq" => ParseAwq(q),
            _ => throw new NotSupportedException(
                $"quantization_config.quant_method '{method}' is not supported (supported: compressed-tensors, modelopt, gptq, awq)"),
        };
    }

    private static HuggingFaceQuantization ParseCompressedTensors(JsonElement q)
    {
        string? topFormat = Str(q, "format");
        if (!q.TryGetProperty("config_groups", out var groups) || groups.ValueKind != JsonValueKind.Object)
            throw new NotSupportedException("compressed-tensors quantization_config has no 'config_groups' object");
        string? format = null;
        int groupSize = 0;
        foreach (var g in groups.EnumerateObject())
        {
            string f = Str(g.Value, "format") ?? topFormat
                ?? throw new NotSupportedException($"compressed-tensors config group '{g.Name}' has no 'format' (nor has quantization_config)");
            if (!g.Value.TryGetProperty("weights", out var w) || w.ValueKind != JsonValueKind.Object)
                throw new NotSupportedException($"compressed-tensors config group '{g.Name}' has no 'weights' scheme (activation-only quantization is not supported)");
            int bits = Int(w, "num_bits") ?? throw new NotSupportedException($"compressed-tensors config group '{g.Name}'.weights has no 'num_bits'");
            string type = Str(w, "type") ?? "int";
            string strategy = Str(w, "strategy") ?? "tensor";
            string where = $"compressed-tensors format '{f}' (group '{g.Name}': num_bits {bits}, type '{type}', strategy '{strategy}')";
            switch (f)
            {
                case "float-quantized":
                    if (bits != 8 || type != "float" || strategy is not ("tensor" or "channel"))
                        throw new NotSupportedException($"{where} is not supported: FP8 needs num_bits 8, type float, strategy tensor or channel");
                    break;
                case "int-quantized":
                    if (bits != 8 || type != "int" || strategy is not ("tensor" or "channel"))
                        throw new NotSupportedException($"{where} is not supported: INT8 needs num_bits 8, type int, strategy channel or tensor");
                    break;
                case "pack-quantized":
                    int gs = Int(w, "group_size") ?? 0;
                    if (bits != 4 || type != "int" || strategy != "group" || gs is not (32 or 64 or 128))
                        throw new NotSupportedException($"{where}, group_size {gs} is not supported: pack-quantized needs num_bits 4, type int, strategy group, group_size 32/64/128");
                    if (groupSize != 0 && groupSize != gs)
                        throw new NotSupportedException($"compressed-tensors config groups use different group sizes ({groupSize}, {gs})");
                    groupSize = gs;
                    break;
                default:
                    throw new NotSupportedException($"compressed-tensors format '{f}' is not supported (supported: float-quantized, int-quantized, pack-quantized)");
            }
            if (format != null && format != f)
                throw new NotSupportedException($"compressed-tensors config groups mix formats '{format}' and '{f}'");
            format = f;
        }
        if (format == null) throw new NotSupportedException("compressed-tensors quantization_config.config_groups is empty");
        return new HuggingFaceQuantization
        {
            Method = HuggingFaceQuantMethod.CompressedTensors,
            Format = format,
            GroupSize = groupSize,
            Description = $"compressed-tensors {format}" + (groupSize > 0 ? $" group_size={groupSize}" : ""),
        };
    }

    private static HuggingFaceQuantization ParseModelOpt(JsonElement q, string where)
    {
        string algo = Str(q, "quant_algo") ?? throw new NotSupportedException($"modelopt {where} has no 'quant_algo'");
        if (algo.ToUpperInvariant() is not ("FP8" or "FP8_PER_CHANNEL_PER_TOKEN"))
            throw new NotSupportedException($"modelopt quant_algo '{algo}' is not supported (supported: FP8, FP8_PER_CHANNEL_PER_TOKEN)");
        return new HuggingFaceQuantization { Method = HuggingFaceQuantMethod.ModelOpt, Description = $"modelopt {algo}" };
    }

    private static HuggingFaceQuantization ParseGptq(JsonElement q)
    {
        int bits = Int(q, "bits") ?? throw new NotSupportedException("gptq quantization_config has no 'bits'");
        int gs = Int(q, "group_size") ?? 128;
        if (bits != 4) throw new NotSupportedException($"gptq bits={bits} is not supported (only 4)");
        if (gs is not (32 or 64 or 128)) throw new NotSupportedException($"gptq group_size={gs} is not supported (32, 64 or 128)");
        string cf = Str(q, "checkpoint_format") ?? "gptq";
        var format = cf switch
        {
            "gptq" => GptqCheckpointFormat.V1,
            "gptq_v2" => GptqCheckpointFormat.V2,
            _ => throw new NotSupportedException($"gptq checkpoint_format '{cf}' is not supported (gptq, gptq_v2)"),
        };
        return new HuggingFaceQuantization
        {
            Method = HuggingFaceQuantMethod.Gptq,
            GroupSize = gs,
            GptqFormat = format,
            Description = string.Create(CultureInfo.InvariantCulture, $"gptq bits={bits} group_size={gs} checkpoint_format={cf}"),
        };
    }

    private static HuggingFaceQuantization ParseAwq(JsonElement q)
    {
        int bits = Int(q, "bits") ?? Int(q, "w_bit") ?? throw new NotSupportedException("awq quantization_config has no 'bits'");
        int gs = Int(q, "group_size") ?? Int(q, "q_group_size") ?? 128;
        string version = Str(q, "version") ?? "gemm";
        if (bits != 4) throw new NotSupportedException($"awq bits={bits} is not supported (only 4)");
        if (gs is not (32 or 64 or 128)) throw new NotSupportedException($"awq group_size={gs} is not supported (32, 64 or 128)");
        if (!version.Equals("gemm", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"awq version '{version}' is not supported (only gemm)");
        if (q.TryGetProperty("zero_point", out var zp) && zp.ValueKind == JsonValueKind.False)
            throw new NotSupportedException("awq zero_point=false is not supported (gemm checkpoints store qzeros)");
        return new HuggingFaceQuantization
        {
            Method = HuggingFaceQuantMethod.Awq,
            GroupSize = gs,
            Description = string.Create(CultureInfo.InvariantCulture, $"awq bits={bits} group_size={gs} version={version}"),
        };
    }

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
}
