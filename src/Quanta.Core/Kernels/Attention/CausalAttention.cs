using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Ops;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// Causal grouped-query attention of a chunk of new tokens over a KV cache.
/// <para>Shapes: q [nTokens, Heads, HeadDim]; output [nTokens, Heads, HeadDim]; the cache (an <see cref="IKvView{T}"/>,
/// F32 or F16) holds positions 0..Length−1 with Length ≥ p0 + nTokens. Token i sits at position p0 + i and attends to
/// positions lo..p0+i, lo = 0 or, with a sliding window W, max(0, p0+i−W+1).</para>
/// <para>Algorithm (two-pass, exact softmax): scores s_p = scale·(q·k_p) (soft-capped if set) into scratch in position
/// order, then max, exp(s − max) and their sum, then out = Σ_p e_p·v_p accumulated position by position and divided by
/// the sum. Every (token, head) row is computed by the same code from its own data only, in position order, so a row's
/// output is bit-identical whatever the batch size and whatever the block layout of the cache (contiguous or paged);
/// F16 caches are converted exactly, so an F16 cache gives the same bits as an F32 cache holding the same values.</para>
/// <para>Never allocates: callers pass scratch of <see cref="ScratchLength"/> floats (one per concurrently computed row).</para>
/// </summary>
public static class CausalAttention
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "attention";

    /// <summary>Scratch floats one row needs for a cache of up to <paramref name="maxPositions"/> positions.</summary>
    public static int ScratchLength(int maxPositions, int headDim) => maxPositions + 2 * headDim;

    /// <summary>Computes every (token, head) row of the chunk, sequentially.</summary>
    public static void Forward<T, TView>(ReadOnlySpan<float> q, int nTokens, int p0, TView kv, in AttentionParameters p,
        Span<float> output, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int rowLen = p.Heads * p.HeadDim;
        if (q.Length < nTokens * rowLen) throw new ArgumentException("q is shorter than [nTokens, Heads, HeadDim].", nameof(q));
        if (output.Length < nTokens * rowLen) throw new ArgumentException("output is shorter than [nTokens, Heads, HeadDim].", nameof(output));
        for (int t = 0; t < nTokens; t++)
            for (int h = 0; h < p.Heads; h++)
            {
                int off = t * rowLen + h * p.HeadDim;
                ForwardRow<T, TView>(q.Slice(off, p.HeadDim), p0 + t, h, kv, p, output.Slice(off, p.HeadDim), scratch);
            }
    }

    /// <summary>
    /// One row: query head <paramref name="head"/> of the token at <paramref name="position"/>. qRow and outRow are [HeadDim].
    /// Safe to call concurrently for different rows with separate scratch.
    /// </summary>
    public static void ForwardRow<T, TView>(ReadOnlySpan<float> qRow, int position, int head, TView kv, in AttentionParameters p,
        Span<float> outRow, Span<float> scratch)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        int d = p.HeadDim;
        Validate<T, TView>(kv, p, position, head);
        if (qRow.Length < d || outRow.Length < d) throw new ArgumentException("qRow and outRow must hold HeadDim values.");
        int lo = p.SlidingWindow > 0 ? Math.Max(0, position - p.SlidingWindow + 1) : 0;
        int count = position - lo + 1;
        if (scratch.Length < count + 2 * d) throw new ArgumentException($"Scratch needs {count + 2 * d} floats.", nameof(scratch));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);

        int kvHead = head / (p.Heads / p.KvHeads);
        int bs = kv.BlockSize;
        int stride = kv.KvHeads * d;
        Span<float> scores = scratch[..count];
        Span<float> conv = scratch.Slice(count, d);
        Span<float> acc = scratch.Slice(count + d, d);
        float scale = p.EffectiveScale;
        ref float qs = ref MemoryMarshal.GetReference(qRow);

        // Pass 1: scores in position order.
        for (int pos = lo; pos <= position;)
        {
            int block = pos / bs, inBlock = pos - block * bs;
            int end = Math.Min(position + 1, (block + 1) * bs);
            ReadOnlySpan<T> keys = kv.KeyBlock(block);
            for (; pos < end; pos++, inBlock++)
            {
                ref float k = ref Row(keys, inBlock * stride + kvHead * d, d, conv);
                scores[pos - lo] = Dot.ComputeUnchecked(ref qs, ref k, d) * scale;
            }
        }
        if (p.SoftCap > 0f)
        {
            Scale.Forward(scores, 1f / p.SoftCap, scores);
            Softmax.TanhInPlace(scores);
            Scale.Forward(scores, p.SoftCap, scores);
        }
        float max = Reductions.Max(scores);
        float sum = Softmax.ExpMinusMaxInPlace(scores, max);

        // Pass 2: weighted sum of values in position order.
        acc.Clear();
        for (int pos = lo; pos <= position;)
        {
            int block = pos / bs, inBlock = pos - block * bs;
            int end = Math.Min(position + 1, (block + 1) * bs);
            ReadOnlySpan<T> values = kv.ValueBlock(block);
            for (; pos < end; pos++, inBlock++)
            {
                ref float v = ref Row(values, inBlock * stride + kvHead * d, d, conv);
                AddScaled.Core(scores[pos - lo], ref v, ref MemoryMarshal.GetReference(acc), d);
            }
        }
        Scale.Forward(acc, 1f / sum, outRow);
    }

    /// <summary>Returns a reference to the F32 row at <paramref name="offset"/>, converting F16 rows into <paramref name="conv"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Row<T>(ReadOnlySpan<T> block, int offset, int d, Span<float> conv) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return ref Unsafe.As<T, float>(ref Unsafe.AsRef(in block.Slice(offset, d)[0]));
        if (typeof(T) == typeof(Half))
        {
            ref ushort h = ref Unsafe.As<T, ushort>(ref Unsafe.AsRef(in block.Slice(offset, d)[0]));
            F16Conversion.ToSingleRowUnchecked(ref h, ref MemoryMarshal.GetReference(conv), d);
            return ref MemoryMarshal.GetReference(conv);
        }
        throw new NotSupportedException($"KV element type {typeof(T)} is not supported (use float or Half).");
    }

    private static void Validate<T, TView>(TView kv, in AttentionParameters p, int position, int head)
        where T : unmanaged
        where TView : IKvView<T>, allows ref struct
    {
        if (p.Heads <= 0 || p.KvHeads <= 0 || p.Heads % p.KvHeads != 0)
            throw new ArgumentException("Heads must be a positive multiple of KvHeads.", nameof(p));
        if (kv.KvHeads != p.KvHeads || kv.HeadDim != p.HeadDim) throw new ArgumentException("Cache shape differs from parameters.", nameof(kv));
        if ((uint)position >= (uint)kv.Length) throw new ArgumentOutOfRangeException(nameof(position), position, $"Cache holds {kv.Length} positions.");
        if ((uint)head >= (uint)p.Heads) throw new ArgumentOutOfRangeException(nameof(head));
    }
}
