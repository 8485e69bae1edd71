using Quanta.Core.Formats;
using Quanta.Models.Tests.Support;
using Xunit.Abstractions;

namespace Quanta.Models.Tests;

/// <summary>
/// Token for token with llama.cpp: random-weight llama GGUF files (GQA 4 heads / 2 KV heads of 64, dim 256, ffn 512,
/// 2 layers, vocab 1024 from the SentencePiece llama vocab) in each weight format are run by llama.cpp (LLamaSharp) and
/// by Quanta. Compared: the logits at all 64 prompt positions (one batch in both engines) and at each of 32 greedy
/// steps (token by token in both), and the 32 greedy tokens themselves, which must be identical.
/// </summary>
public sealed class LlamaOracleTests(ITestOutputHelper output)
{
    /// <summary>
    /// Tolerance on |quanta − llama.cpp| per logit, relative to that position's logit range (max − min over the vocab).
    /// F32: both engines do F32 products of identical weights with the same RoPE angle recurrence; only summation
    /// order (SIMD lanes, llama.cpp's tiled sgemm in the prompt batch) and exp/softmax rounding differ: measured 1e-6
    /// relative; 2e-4 leaves room while catching any wrong op (a wrong rope layout, scale or norm is of order 1).
    /// F16: activations are rounded to F16 before each product in both engines (ggml's vec_dot_f16), so one rounding
    /// flip of an activation near a half-ulp boundary (2⁻¹¹ relative) moves a product slightly: measured 2.2e-4, 2e-3.
    /// Q8_0/Q4_0/Q4_K/Q6_K: activations are quantized to Q8_0/Q8_K in both engines with the same rounding, and most
    /// positions agree to ~1e-7 relative (float summation order only). But where a ~1e-7 difference lands on an int8
    /// rounding boundary (1/127 of a block's max) one activation moves by a whole step, that row's later activations
    /// then differ by ~1e-4 and flip many more roundings: such rows (about half) end at the level of activation
    /// quantization noise, measured 3e-3..1.5e-2 of the logit range (largest for Q4_K, whose Q8_K blocks are 256
    /// wide). Tolerances 2e-2 (3e-2 for Q4_K) bound that noise; a wrong kernel, layout or scale is of order 1.
    /// </summary>
    public static TheoryData<string, double> Formats() => new()
    {
        { "F32", 2e-4 },
        { "F16", 2e-3 },
        { "Q8_0", 2e-2 },
        { "Q4_0", 2e-2 },
        { "Q4_K", 3e-2 },
        { "Q6_K", 2e-2 },
    };

    // Untied random output matrices give near-ties (llama.cpp margins ~1e-3 of the range) that only F32 resolves
    // within its tolerance; tied outputs (llama.cpp reuses token_embd, like Quanta) give peaked logits.
    private static RandomLlamaSpec SpecFor(string format) => format switch
    {
        "F32" => new RandomLlamaSpec(GgmlType.F32),
        "F16" => new RandomLlamaSpec(GgmlType.F16, Tied: true),
        "Q8_0" => new RandomLlamaSpec(GgmlType.Q8_0, Tied: true, RopeFreqs: true, FreqBase: 500000f),
        "Q4_0" => new RandomLlamaSpec(GgmlType.Q4_0, Tied: true),
        "Q4_K" => new RandomLlamaSpec(GgmlType.Q4_K, Tied: true) { Ffn = 768 },
        "Q6_K" => new RandomLlamaSpec(GgmlType.Q6_K, Tied: true),
        _ => throw new ArgumentException(format),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Logits_and_greedy_tokens_match_llama_cpp(string format, double relTol)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quanta-models-{format}-{Environment.ProcessId}.gguf");
        try
        {
            RandomLlamaGguf.Write(SpecFor(format), path);
            OracleHarness.Run(path, format, relTol, output);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
