using Quanta.Core.Formats;

namespace Quanta.Models.Conversion;

/// <summary>Element type of the matrices a converter writes (1-D tensors such as norms always stay F32).</summary>
public enum GgufOutputType
{
    /// <summary>Keep the source's type (F32 for llama2.c; the dtype of the source matrices for safetensors).</summary>
    Source,

    /// <summary>32-bit floats.</summary>
    F32,

    /// <summary>IEEE half precision (round to nearest even).</summary>
    F16,

    /// <summary>bfloat16 (round to nearest even).</summary>
    BF16,
}

/// <summary>Parsing and GGUF file-type ids of <see cref="GgufOutputType"/>.</summary>
public static class GgufOutputTypes
{
    /// <summary>Parses "f32", "f16", "bf16" (any case); throws <see cref="ArgumentException"/> listing the choices otherwise.</summary>
    public static GgufOutputType Parse(string? text) => text?.ToUpperInvariant() switch
    {
        null or "" or "AUTO" or "SOURCE" => GgufOutputType.Source,
        "F32" => GgufOutputType.F32,
        "F16" => GgufOutputType.F16,
        "BF16" => GgufOutputType.BF16,
        _ => throw new ArgumentException($"unknown --outtype '{text}' (choose f32, f16 or bf16)"),
    };

    /// <summary>The ggml type of an explicit output type.</summary>
    public static GgmlType ToGgml(GgufOutputType type) => type switch
    {
        GgufOutputType.F32 => GgmlType.F32,
        GgufOutputType.F16 => GgmlType.F16,
        GgufOutputType.BF16 => GgmlType.BF16,
        _ => throw new ArgumentException("the source output type has no fixed ggml type", nameof(type)),
    };

    /// <summary>llama.cpp's general.file_type (enum llama_ftype) for files whose matrices are all <paramref name="type"/>.</summary>
    public static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentException($"no plain file type for {type}", nameof(type)),
    };
}
