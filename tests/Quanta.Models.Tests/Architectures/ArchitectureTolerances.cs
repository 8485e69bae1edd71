namespace Quanta.Models.Tests.Architectures;

/// <summary>
/// Tolerances on max |quanta − llama.cpp| / logit range per format, used by every architecture's oracle test.
/// <para>Standard (qwen2, qwen3, phi3: SwiGLU like llama), the same reasoning as the llama oracle tests:
/// F32: identical weights and RoPE angle recurrence, only float summation order differs: measured ≤ 1.4e-6; 2e-4.
/// F16: both engines round activations to F16 before each product, and a rounding flip near a half-ulp boundary moves
/// a product slightly: measured ≤ 3e-4; 2e-3.
/// Q8_0/Q4_0/Q4_K/Q6_K: activations are quantized to Q8_0/Q8_K in both engines with the same rounding; a 1e-7
/// summation-order difference that lands on an int8 rounding boundary moves one activation a whole step, and the row
/// then ends at the level of activation-quantization noise: measured ≤ 7.3e-3; 2e-2 (3e-2 for Q4_K, whose 256-wide Q8_K
/// blocks make the noise largest in the llama tests). A wrong layout, scale, norm or bias is of order 1.</para>
/// <para>Gemma (gemma2, gemma3) adds one systematic difference: llama.cpp's CPU GeGLU evaluates GELU through a table
/// indexed by the F16-rounded input and returns the F16-rounded result (GGML_GELU_FP16), a relative error up to 2⁻¹¹
/// per feed-forward activation, where Quanta evaluates the tanh GELU in F32. Measured F32 ≤ 7.5e-5 (so F32 gets 5e-4
/// instead of 2e-4); F16 ≤ 2.9e-4 (2e-3 as above); quantized formats are dominated by activation-quantization noise as
/// above (measured ≤ 6.9e-3).</para>
/// </summary>
public static class ArchitectureTolerances
{
    public static TheoryData<string, double> Standard() => new()
    {
        { "F32", 2e-4 },
        { "F16", 2e-3 },
        { "Q8_0", 2e-2 },
        { "Q4_0", 2e-2 },
        { "Q4_K", 3e-2 },
        { "Q6_K", 2e-2 },
    };

    public static TheoryData<string, double> Gemma() => new()
    {
        { "F32", 5e-4 },
        { "F16", 2e-3 },
        { "Q8_0", 2e-2 },
        { "Q4_0", 2e-2 },
        { "Q4_K", 3e-2 },
        { "Q6_K", 2e-2 },
    };
}
