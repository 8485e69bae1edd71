using Quanta.Core.Kernels.Attention;

namespace Quanta.Models.KvCache;

/// <summary>
/// What a model sees of one sequence's KV cache: per layer, a store for K/V rows by position and attention over the
/// positions written so far. Models never see requests, block tables or other sequences; a contiguous cache
/// (<see cref="ContiguousKvCache"/>) and the engine's paged cache implement the same view.
/// <para>Contract: keys/values are rows of KvHeads·HeadDim floats (heads contiguous, [KvHeads, HeadDim]).
/// <see cref="Write"/> stores rows for positions [startPos, startPos + count) of a layer (converting to the storage
/// type, e.g. F16); the implementation must make room (allocate blocks) for those positions or throw. Once one layer's
/// write has made room for positions, writes of other layers at those positions only store: they may run concurrently
/// for different positions (DecoderModel writes layers after the first row by row from its pool).
/// <see cref="AttendRow"/> runs <see cref="CausalAttention.ForwardRow{T, TView}"/> over positions [0, length) of the layer
/// through an <see cref="IKvView{T}"/> of the implementation's block layout; it only reads, so it may be called
/// concurrently for different rows (with separate scratch). Neither method allocates managed memory.</para>
/// </summary>
public interface IKvCacheView
{
    /// <summary>Layers stored.</summary>
    int Layers { get; }

    /// <summary>Key/value heads per position.</summary>
    int KvHeads { get; }

    /// <summary>Elements per head.</summary>
    int HeadDim { get; }

    /// <summary>Most positions this view can hold.</summary>
    int Capacity { get; }

    /// <summary>Positions per storage block (a contiguous cache is one block of <see cref="Capacity"/>).</summary>
    int BlockSize { get; }

    /// <summary>
    /// Stores K and V for positions [startPos, startPos + count) of <paramref name="layer"/>. keys and values are
    /// [count, KvHeads·HeadDim] with row stride KvHeads·HeadDim.
    /// </summary>
    void Write(int layer, int startPos, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values);

    /// <summary>
    /// Attention of one query row (query head <paramref name="head"/> of the token at <paramref name="position"/>,
    /// qRow and outRow [HeadDim]) over positions [0, <paramref name="length"/>) of <paramref name="layer"/>;
    /// scratch holds <see cref="CausalAttention.ScratchLength"/>(length, HeadDim) floats.
    /// </summary>
    void AttendRow(int layer, int length, ReadOnlySpan<float> qRow, int position, int head, in AttentionParameters parameters,
        Span<float> outRow, Span<float> scratch);

    /// <summary>
    /// Attention of up to <see cref="CausalAttention.RowBlock"/> consecutive tokens of query head
    /// <paramref name="head"/>: row r is the token at firstPosition + r, its query at q[r·qStride ..][..HeadDim], its
    /// output at output[r·outStride ..][..HeadDim]. Each row's bits equal <see cref="AttendRow"/>'s for that row
    /// (<see cref="CausalAttention.ForwardRows{T, TView}"/>); an implementation that can hand the kernel several rows
    /// at once loads each key and value once for all of them. The default runs <see cref="AttendRow"/> row by row.
    /// </summary>
    void AttendRows(int layer, int length, ReadOnlySpan<float> q, int qStride, int rows, int firstPosition, int head,
        in AttentionParameters parameters, Span<float> output, int outStride, Span<float> scratch)
    {
        for (int r = 0; r < rows; r++)
            AttendRow(layer, length, q.Slice(r * qStride, HeadDim), firstPosition + r, head, parameters, output.Slice(r * outStride, HeadDim), scratch);
    }

    /// <summary>
    /// Attention of one token at <paramref name="position"/> for query heads firstHead .. firstHead + heads − 1 (1 to
    /// <see cref="CausalAttention.RowBlock"/>, all reading one KV head), over positions [0, length) of the layer: head
    /// i's query at q[i·HeadDim ..], its output at output[i·HeadDim ..]. Each head's result is bit-identical to
    /// <see cref="AttendRow"/> on that head (<see cref="CausalAttention.ForwardHeads{T, TView}"/>: each key and value
    /// row is loaded once for all the heads). The default runs <see cref="AttendRow"/> head by head.
    /// </summary>
    void AttendHeads(int layer, int length, ReadOnlySpan<float> q, int heads, int position, int firstHead,
        in AttentionParameters parameters, Span<float> output, Span<float> scratch)
    {
        for (int i = 0; i < heads; i++)
            AttendRow(layer, length, q.Slice(i * HeadDim, HeadDim), position, firstHead + i, parameters, output.Slice(i * HeadDim, HeadDim), scratch);
    }

    /// <summary>
    /// <see cref="AttendHeads(int, int, ReadOnlySpan{float}, int, int, int, in AttentionParameters, Span{float}, Span{float})"/>
    /// told the caller's next one-token call (<paramref name="next"/>, on the same thread): an implementation that can
    /// reach the next call's storage prefetches its K/V rows while this call computes
    /// (<see cref="CausalAttention.ForwardHeads{T, TView}(ReadOnlySpan{float}, int, int, int, TView, in AttentionParameters, Span{float}, Span{float}, TView, int, int)"/>).
    /// Same results as without the hint. The default ignores it.
    /// </summary>
    void AttendHeads(int layer, int length, ReadOnlySpan<float> q, int heads, int position, int firstHead,
        in AttentionParameters parameters, Span<float> output, Span<float> scratch, in NextAttention next)
        => AttendHeads(layer, length, q, heads, position, firstHead, parameters, output, scratch);
}

/// <summary>The next one-token attention call a caller will make (a prefetch hint): <see cref="Kv"/>'s layer
/// <see cref="Layer"/> over positions [0, <see cref="Length"/>), the token at <see cref="Position"/>, query heads from
/// <see cref="FirstHead"/>. Kv null: none.</summary>
public readonly record struct NextAttention(IKvCacheView? Kv, int Layer, int Length, int Position, int FirstHead);
