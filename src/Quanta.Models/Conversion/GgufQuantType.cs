using Quanta.Core.Formats;

namespace Quanta.Models.Conversion;

/// <summary>
/// A llama-quantize target (llama.cpp's llama_ftype): the default tensor type plus the per-tensor mix rules in
/// <see cref="GgufQuantizationRules"/>. The id is what general.file_type records.
/// </summary>
/// <param name="Name">Name as users type it (e.g. "Q4_K_M").</param>
/// <param name="FileType">llama_ftype id written to general.file_type.</param>
/// <param name="DefaultType">Type of every quantizable tensor the rules do not change.</param>
public sealed record GgufQuantType(string Name, uint FileType, GgmlType DefaultType)
{
    /// <summary>F32 (ALL_F32).</summary>
    public static GgufQuantType F32 { get; } = new("F32", 0, GgmlType.F32);
    /// <summary>F16 (MOSTLY_F16).</summary>
    public static GgufQuantType F16 { get; } = new("F16", 1, GgmlType.F16);
    /// <summary>BF16 (MOSTLY_BF16).</summary>
    public static GgufQuantType BF16 { get; } = new("BF16", 32, GgmlType.BF16);
    /// <summary>Q4_0 (MOSTLY_Q4_0).</summary>
    public static GgufQuantType Q4_0 { get; } = new("Q4_0", 2, GgmlType.Q4_0);
    /// <summary>Q4_1 (MOSTLY_Q4_1).</summary>
    public static GgufQuantType Q4_1 { get; } = new("Q4_1", 3, GgmlType.Q4_1);
    /// <summary>Q5_0 (MOSTLY_Q5_0).</summary>
    public static GgufQuantType Q5_0 { get; } = new("Q5_0", 8, GgmlType.Q5_0);
    /// <summary>Q5_1 (MOSTLY_Q5_1).</summary>
    public static GgufQuantType Q5_1 { get; } = new("Q5_1", 9, GgmlType.Q5_1);
    /// <summary>Q8_0 (MOSTLY_Q8_0).</summary>
    public static GgufQuantType Q8_0 { get; } = new("Q8_0", 7, GgmlType.Q8_0);
    /// <summary>Q2_K (MOSTLY_Q2_K).</summary>
    public static GgufQuantType Q2_K { get; } = new("Q2_K", 10, GgmlType.Q2_K);
    /// <summary>Q4_K_S (MOSTLY_Q4_K_S).</summary>
    public static GgufQuantType Q4_K_S { get; } = new("Q4_K_S", 14, GgmlType.Q4_K);
    /// <summary>Q4_K_M (MOSTLY_Q4_K_M); "Q4_K" means this, as in llama-quantize.</summary>
    public static GgufQuantType Q4_K_M { get; } = new("Q4_K_M", 15, GgmlType.Q4_K);
    /// <summary>Q5_K_S (MOSTLY_Q5_K_S).</summary>
    public static GgufQuantType Q5_K_S { get; } = new("Q5_K_S", 16, GgmlType.Q5_K);
    /// <summary>Q5_K_M (MOSTLY_Q5_K_M); "Q5_K" means this, as in llama-quantize.</summary>
    public static GgufQuantType Q5_K_M { get; } = new("Q5_K_M", 17, GgmlType.Q5_K);
    /// <summary>Q6_K (MOSTLY_Q6_K).</summary>
    public static GgufQuantType Q6_K { get; } = new("Q6_K", 18, GgmlType.Q6_K);

    /// <summary>All supported targets.</summary>
    public static IReadOnlyList<GgufQuantType> All { get; } = [F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K];

    /// <summary>True when the default type is a block-quantized type (the mix rules apply only then).</summary>
    public bool IsQuantized => DefaultType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);

    /// <summary>Looks up a target by name (any case; "Q4_K" = Q4_K_M, "Q5_K" = Q5_K_M).</summary>
    public static bool TryParse(string? name, out GgufQuantType type)
    {
        string n = (name ?? "").ToUpperInvariant();
        n = n switch { "Q4_K" => "Q4_K_M", "Q5_K" => "Q5_K_M", _ => n };
        type = All.FirstOrDefault(t => t.Name == n)!;
        return type != null;
    }
}
