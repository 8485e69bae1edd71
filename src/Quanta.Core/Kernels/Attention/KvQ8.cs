using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// The Q8_0 KV cache format (llama.cpp's <c>-ctk q8_0 -ctv q8_0</c>): groups of 32 consecutive elements of a head row,
/// each one F16 scale d and 32 int8 codes q (value = q·d), 34 bytes per 32 values as ggml's block_q8_0, but stored as
/// two parallel arrays: codes (sbyte, laid out as the F32/F16 cache's elements) and scales (one per 32 elements, scale of
/// element e at e &gt;&gt; 5), so the attention kernels address both by the element offset. A scale is rounded to F16 as
/// in block_q8_0 but kept as the F32 of that F16 value (exact), so the kernels multiply by it without a conversion: 36
/// bytes per 32 values in memory (F16 64, F32 128), the same values as llama.cpp's 34-byte blocks. Quantized on write
/// with ggml-cpu's quantize_row_q8_0 arithmetic (<see cref="Q8Activation.QuantizeQ8_0"/>: d = max|x|/127, codes
/// rounded to nearest, d stored as F16), as llama.cpp's CPU backend converts K/V rows into a q8_0 cache.
/// </summary>
public static class KvQ8
{
    /// <summary>Elements per scale.</summary>
    public const int GroupSize = 32;

    /// <summary>Largest row <see cref="Quantize"/> takes in one piece (longer rows are split; the result is the same).</summary>
    private const int ChunkElements = 4096;

    /// <summary>Per layer, <paramref name="elements"/> codes and their elements / 32 scales (a cache's K or V storage).</summary>
    public static (sbyte[][] Codes, float[][] Scales) Allocate(int layers, long elements)
    {
        if (elements % GroupSize != 0) throw new ArgumentException($"elements {elements} is not a multiple of {GroupSize}", nameof(elements));
        var codes = new sbyte[layers][];
        var scales = new float[layers][];
        for (int l = 0; l < layers; l++) { codes[l] = new sbyte[elements]; scales[l] = new float[elements / GroupSize]; }
        return (codes, scales);
    }

    /// <summary>
    /// Quantizes <paramref name="x"/> (a multiple of 32 elements) into codes[..x.Length] and scales[..x.Length / 32].
    /// Allocation-free; the same codes and scales as <see cref="QuantizeReference"/>.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> codes, Span<float> scales) => Quantize(x, codes, scales, scalar: false);

    /// <summary>Scalar reference of <see cref="Quantize"/>: the blocks of <see cref="Q8Activation.QuantizeQ8_0Scalar"/>
    /// (per 32 elements amax = max|x|, d = amax/127, id = 127/amax, q = round-half-to-even(x·id)), split the same way
    /// into codes and F32(F16(d)) scales.</summary>
    public static void QuantizeReference(ReadOnlySpan<float> x, Span<sbyte> codes, Span<float> scales) => Quantize(x, codes, scales, scalar: true);

    // ggml block_q8_0 rows (F16 d, 32 codes) of up to ChunkElements values at a time, split into the two arrays
    private static void Quantize(ReadOnlySpan<float> x, Span<sbyte> codes, Span<float> scales, bool scalar)
    {
        Check(x, codes, scales);
        Span<byte> blocks = stackalloc byte[ChunkElements / GroupSize * BlockQ8_0.Bytes];
        for (int o = 0; o < x.Length; o += ChunkElements)
        {
            int n = Math.Min(ChunkElements, x.Length - o), nb = n / GroupSize;
            if (scalar) Q8Activation.QuantizeQ8_0Scalar(x.Slice(o, n), blocks);
            else Q8Activation.QuantizeQ8_0(x.Slice(o, n), blocks);
            for (int b = 0; b < nb; b++)
            {
                ReadOnlySpan<byte> blk = blocks.Slice(b * BlockQ8_0.Bytes, BlockQ8_0.Bytes);
                scales[o / GroupSize + b] = F16Conversion.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(blk));
                MemoryMarshal.Cast<byte, sbyte>(blk[2..]).CopyTo(codes.Slice(o + b * GroupSize, GroupSize));
            }
        }
    }

    /// <summary>The values a Q8_0 row stands for: dst[i] = codes[i] · scales[i &gt;&gt; 5] (exact in F32: an int8 times an F16 value).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> codes, ReadOnlySpan<float> scales, Span<float> dst)
    {
        if (codes.Length % GroupSize != 0 || scales.Length < codes.Length / GroupSize || dst.Length < codes.Length)
            throw new ArgumentException("codes must be a multiple of 32 elements with one scale per 32 and dst as long.");
        for (int i = 0; i < codes.Length; i++)
            dst[i] = codes[i] * scales[i >> 5];
    }

    private static void Check(ReadOnlySpan<float> x, Span<sbyte> codes, Span<float> scales)
    {
        if (x.Length % GroupSize != 0) throw new ArgumentException($"length {x.Length} is not a multiple of {GroupSize}", nameof(x));
        if (codes.Length < x.Length || scales.Length < x.Length / GroupSize)
            throw new ArgumentException("codes must hold x.Length values and scales x.Length / 32.");
    }
}
