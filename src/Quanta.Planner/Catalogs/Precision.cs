using System.Globalization;

namespace Quanta.Planner.Catalogs;

/// <summary>Numeric precision of weights, KV cache or tensor math.</summary>
public enum Precision
{
    Fp32,
    Bf16,
    Fp16,
    Fp8,
    Int8,
    Int4,
    Fp4,
}

/// <summary>Bytes per element and names of <see cref="Precision"/> values.</summary>
public static class PrecisionInfo
{
    /// <summary>Elements per quantization group for 4-bit weights (one FP16 scale per group).</summary>
    public const int Int4GroupSize = 128;

    /// <summary>
    /// Bytes one weight occupies: 4 (fp32), 2 (bf16/fp16), 1 (fp8/int8), 0.5 + 2/<see cref="Int4GroupSize"/> for
    /// int4/fp4 (the 4-bit value plus its share of an FP16 group scale).
    /// </summary>
    public static double BytesPerWeight(Precision p) => p switch
    {
        Precision.Fp32 => 4,
        Precision.Bf16 or Precision.Fp16 => 2,
        Precision.Fp8 or Precision.Int8 => 1,
        _ => 0.5 + 2.0 / Int4GroupSize,
    };

    /// <summary>Bytes of one KV-cache element at precision <paramref name="p"/> (4-bit KV is not modelled: 1 byte).</summary>
    public static double BytesPerKvElement(Precision p) => p switch
    {
        Precision.Fp32 => 4,
        Precision.Bf16 or Precision.Fp16 => 2,
        _ => 1,
    };

    /// <summary>The KV-cache precision engines use by default with weights at <paramref name="weights"/>: FP8 for 8- and 4-bit weights, else 16-bit.</summary>
    public static Precision DefaultKv(Precision weights) => weights is Precision.Fp8 or Precision.Fp4 or Precision.Int4 or Precision.Int8 ? Precision.Fp8 : Precision.Fp16;

    /// <summary>Lower-case name (fp16, bf16, fp8, ...).</summary>
    public static string Name(Precision p) => p.ToString().ToLowerInvariant();

    /// <summary>Parses a precision name (case-insensitive; "nvfp4" = fp4, "float16" = fp16, "w4" = int4).</summary>
    /// <exception cref="ArgumentException">The name is none of the known precisions.</exception>
    public static Precision Parse(string text)
    {
        if (TryParse(text, out var p)) return p;
        throw new ArgumentException($"unknown precision '{text}' (expected fp32, bf16, fp16, fp8, int8, int4 or fp4)");
    }

    /// <summary>Parses a precision name; false when unknown.</summary>
    public static bool TryParse(string? text, out Precision p)
    {
        string t = (text ?? "").Trim().ToLower(CultureInfo.InvariantCulture);
        (bool ok, p) = t switch
        {
            "fp32" or "f32" or "float32" => (true, Precision.Fp32),
            "bf16" or "bfloat16" => (true, Precision.Bf16),
            "fp16" or "f16" or "float16" or "half" => (true, Precision.Fp16),
            "fp8" or "f8" or "e4m3" or "cfp8" => (true, Precision.Fp8),
            "int8" or "i8" or "w8" or "q8_0" => (true, Precision.Int8),
            "int4" or "i4" or "w4" or "q4_0" or "q4_k" => (true, Precision.Int4),
            "fp4" or "nvfp4" or "mxfp4" => (true, Precision.Fp4),
            _ => (false, Precision.Fp16),
        };
        return ok;
    }
}
