using Quanta.Models.Conversion;

namespace Quanta.Bench.Tests;

/// <summary>Tiny generated models shared by the tests (written once per run to a temporary folder).</summary>
public sealed class TinyModels : IDisposable
{
    /// <summary>
    /// 2 layers, width 64, FFN 128, 4 heads of 16, 2 KV heads, vocabulary 300, separate output. In Q8_0 every matrix is
    /// Q8_0 (34 bytes per 32 values: 68 bytes per 64-row, 136 per 128-row) and the norms F32.
    /// </summary>
    public static ModelShape Small { get; } = new("tiny", 2, 64, 128, 4, 2, 300, false, 10000f, 256);

    public TinyModels()
    {
        Dir = Path.Combine(Path.GetTempPath(), "quanta-bench-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
        SmallQ8 = Path.Combine(Dir, "tiny-q8_0.gguf");
        ModelGenerator.Generate(Small, GgufQuantType.Q8_0, SmallQ8, seed: 7);
    }

    public string Dir { get; }

    public string SmallQ8 { get; }

    /// <summary>
    /// Hand count for <see cref="Small"/> in Q8_0: output 300·68 = 20400, output_norm 64·4 = 256, per layer
    /// attn_norm 256 + q 64·68 + k 32·68 + v 32·68 + o 64·68 + ffn_norm 256 + gate 128·68 + up 128·68 + down 64·136
    /// = 256 + 4352 + 2176 + 2176 + 4352 + 256 + 8704 + 8704 + 8704 = 39680, two layers 79360; total 100016.
    /// </summary>
    public const long SmallWeightBytes = 20400 + 256 + 2 * 39680;

    /// <summary>One token_embd row: 64 Q8_0 values = 2 blocks of 34 bytes.</summary>
    public const long SmallEmbeddingRow = 68;

    /// <summary>KV bytes per position with an F16 cache: 2 layers · (K + V) · 2 heads · 16 · 2 bytes.</summary>
    public const long SmallKvPerPositionF16 = 2 * 2 * 2 * 16 * 2;

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
