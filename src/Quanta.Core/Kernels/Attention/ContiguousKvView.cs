namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// A contiguous KV cache: keys and values are each [capacity, KvHeads, HeadDim] spans; positions 0..Length−1 are valid.
/// Exposed as a single block of <c>capacity</c> positions.
/// </summary>
public readonly ref struct ContiguousKvView<T> : IKvView<T> where T : unmanaged
{
    private readonly ReadOnlySpan<T> _keys;
    private readonly ReadOnlySpan<T> _values;
    private readonly ReadOnlySpan<float> _keyScales;
    private readonly ReadOnlySpan<float> _valueScales;

    /// <summary>Wraps the spans; <paramref name="length"/> ≤ keys.Length/(kvHeads·headDim).</summary>
    public ContiguousKvView(ReadOnlySpan<T> keys, ReadOnlySpan<T> values, int length, int kvHeads, int headDim)
    {
        if (kvHeads <= 0 || headDim <= 0) throw new ArgumentOutOfRangeException(nameof(kvHeads));
        int row = kvHeads * headDim;
        if (keys.Length != values.Length || keys.Length % row != 0) throw new ArgumentException("Keys and values must both be [capacity, kvHeads, headDim].");
        if ((uint)length > (uint)(keys.Length / row)) throw new ArgumentOutOfRangeException(nameof(length));
        _keys = keys;
        _values = values;
        Length = length;
        KvHeads = kvHeads;
        HeadDim = headDim;
        BlockSize = Math.Max(1, keys.Length / row);
    }

    /// <summary>Wraps Q8_0 codes and their scales (one per 32 elements; HeadDim a multiple of 32).</summary>
    public ContiguousKvView(ReadOnlySpan<T> keys, ReadOnlySpan<T> values, ReadOnlySpan<float> keyScales, ReadOnlySpan<float> valueScales,
        int length, int kvHeads, int headDim)
        : this(keys, values, length, kvHeads, headDim)
    {
        if (headDim % 32 != 0) throw new ArgumentException("A Q8_0 cache needs HeadDim a multiple of 32.", nameof(headDim));
        if (keyScales.Length != keys.Length / 32 || valueScales.Length != values.Length / 32)
            throw new ArgumentException("Scales must hold one value per 32 elements.");
        _keyScales = keyScales;
        _valueScales = valueScales;
    }

    /// <inheritdoc/>
    public int Length { get; }

    /// <inheritdoc/>
    public int BlockSize { get; }

    /// <inheritdoc/>
    public int KvHeads { get; }

    /// <inheritdoc/>
    public int HeadDim { get; }

    /// <inheritdoc/>
    public int PositionStride => KvHeads * HeadDim;

    /// <inheritdoc/>
    public int HeadStride => HeadDim;

    /// <inheritdoc/>
    public ReadOnlySpan<T> KeyBlock(int block) => block == 0 ? _keys : throw new ArgumentOutOfRangeException(nameof(block));

    /// <inheritdoc/>
    public ReadOnlySpan<T> ValueBlock(int block) => block == 0 ? _values : throw new ArgumentOutOfRangeException(nameof(block));

    /// <inheritdoc/>
    public ReadOnlySpan<float> KeyScaleBlock(int block) => block == 0 ? _keyScales : throw new ArgumentOutOfRangeException(nameof(block));

    /// <inheritdoc/>
    public ReadOnlySpan<float> ValueScaleBlock(int block) => block == 0 ? _valueScales : throw new ArgumentOutOfRangeException(nameof(block));
}
