namespace Quanta.Core.Formats;

/// <summary>
/// How one row of a weight matrix is laid out in memory, as the matrix-vector kernels read it.
/// Every format stores rows contiguously; a row of n elements occupies a fixed number of bytes
/// (see each kernel's <c>WeightRowBytes</c>). The GGUF formats use ggml's block layouts unchanged;
/// the Quanta formats below carry their per-row or per-group scales inline so that a row is
/// self-contained (checkpoints whose scales live in separate tensors are repacked at load).
/// </summary>
public enum WeightFormat
{
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    /// <summary>FP8 E4M3 with one F32 scale per row (per-channel; a per-tensor scale is the same value on every row).</summary>
    Fp8E4M3,
    /// <summary>FP8 E5M2 with one F32 scale per row.</summary>
    Fp8E5M2,
    /// <summary>INT8 symmetric with one F32 scale per row (per output channel).</summary>
    Int8,
    /// <summary>INT4 group-wise (32 elements per group), scale and optional zero point per group.</summary>
    Int4G32,
    /// <summary>INT4 group-wise (64 elements per group).</summary>
    Int4G64,
    /// <summary>INT4 group-wise (128 elements per group).</summary>
    Int4G128,
}
