namespace Quanta.Models.Conversion;

/// <summary>
/// Reorders the rows of a Hugging Face Llama q_proj/k_proj weight (or bias) from the rotate-half (NeoX) layout to GGUF
/// llama's adjacent-pair layout, as llama.cpp's convert_hf_to_gguf.py permute() does: within each head of
/// <c>headDim</c> rows, GGUF row 2i + j is HF row j·headDim/2 + i (j ∈ {0, 1}, i &lt; headDim/2).
/// </summary>
public static class LlamaQkPermutation
{
    /// <summary>
    /// Permutes a row-major [heads·headDim, cols] matrix (cols = 1 for a bias) into <paramref name="dst"/> (same shape).
    /// </summary>
    public static void ToGgufLayout(ReadOnlySpan<float> src, Span<float> dst, int heads, int cols)
    {
        if (heads <= 0 || cols <= 0 || src.Length % ((long)heads * cols) != 0)
            throw new ArgumentException($"{src.Length} values are not [heads {heads} x headDim, {cols}]");
        if (dst.Length != src.Length) throw new ArgumentException("destination length differs from source", nameof(dst));
        int headDim = src.Length / heads / cols;
        if (headDim % 2 != 0) throw new ArgumentException($"head dim {headDim} is odd");
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                {
                    int from = h * headDim + j * half + i, to = h * headDim + 2 * i + j;
                    src.Slice(from * cols, cols).CopyTo(dst.Slice(to * cols, cols));
                }
    }
}
