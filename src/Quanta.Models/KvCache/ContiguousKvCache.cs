using System.Runtime.InteropServices;
using Quanta.Core.Formats.Float;
using Quanta.Core.Kernels.Attention;

namespace Quanta.Models.KvCache;

/// <summary>Storage type of KV cache elements.</summary>
public enum KvCacheType
{
    /// <summary>32-bit floats.</summary>
    F32,

    /// <summary>IEEE binary16 (llama.cpp's default cache type); values are rounded to nearest even on write.</summary>
    F16,

    /// <summary>
    /// Q8_0 (llama.cpp's <c>-ctk q8_0 -ctv q8_0</c>): per 32 elements of a head row one F16-rounded scale and 32 int8
    /// codes, quantized on write (<see cref="KvQ8"/>; 36 bytes per 32 values in memory, F16: 64). Needs HeadDim a multiple of 32.
    /// </summary>
    Q8_0,
}

/// <summary>Sizes of the <see cref="KvCacheType"/> storage formats.</summary>
public static class KvCacheTypes
{
    /// <summary>Bytes of <paramref name="elements"/> stored K (or V) elements, a multiple of 32 for Q8_0
    /// (F32 4 per element, F16 2, Q8_0 36 per 32: 32 codes and the scale kept as F32, see <see cref="KvQ8"/>).</summary>
    public static long Bytes(KvCacheType type, long elements) => type switch
    {
        KvCacheType.F32 => 4 * elements,
        KvCacheType.F16 => 2 * elements,
        KvCacheType.Q8_0 => elements / KvQ8.GroupSize * (KvQ8.GroupSize + sizeof(float)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Bytes per stored element as a fraction (F32 4, F16 2, Q8_0 1.125).</summary>
    public static double BytesPerElement(KvCacheType type) => Bytes(type, 32) / 32.0;

    /// <summary>Lower-case name as the <c>--cache-type</c> options spell it: f32, f16, q8_0.</summary>
    public static string Name(KvCacheType type) => type switch
    {
        KvCacheType.F32 => "f32",
        KvCacheType.F16 => "f16",
        KvCacheType.Q8_0 => "q8_0",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Parses f32 / f16 / q8_0 (case-insensitive); null for anything else.</summary>
    public static KvCacheType? TryParse(string? text) => text?.ToLowerInvariant() switch
    {
        "f32" => KvCacheType.F32,
        "f16" => KvCacheType.F16,
        "q8_0" => KvCacheType.Q8_0,
        _ => null,
    };
}

/// <summary>
/// A KV cache for one sequence: per layer, keys and values each [Capacity, KvHeads, HeadDim] in one contiguous array
/// of F32, F16 or Q8_0 codes plus scales (<see cref="KvCacheType"/>), exposed to attention as a single block through
/// <see cref="ContiguousKvView{T}"/>. Allocated once; never allocates afterwards.
/// </summary>
public sealed class ContiguousKvCache : IKvCacheView
{
    private readonly float[][]? _k32, _v32;   // [layers][capacity · kvHeads · headDim]
    private readonly Half[][]? _k16, _v16;    // [layers][capacity · kvHeads · headDim]
    private readonly sbyte[][]? _k8, _v8;     // Q8_0 codes [layers][capacity · kvHeads · headDim]
    private readonly float[][]? _ks, _vs;      // Q8_0 scales [layers][capacity · kvHeads · headDim / 32]

    /// <summary>Allocates a cache for <paramref name="capacity"/> positions.</summary>
    public ContiguousKvCache(int layers, int kvHeads, int headDim, int capacity, KvCacheType type = KvCacheType.F32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Capacity = capacity;
        Type = type;
        long n = (long)capacity * kvHeads * headDim;
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(capacity), "cache layer too large for one array");
        if (type == KvCacheType.F32)
        {
            _k32 = new float[layers][];
            _v32 = new float[layers][];
            for (int l = 0; l < layers; l++) { _k32[l] = new float[n]; _v32[l] = new float[n]; }
        }
        else if (type == KvCacheType.Q8_0)
        {
            if (headDim % KvQ8.GroupSize != 0) throw new NotSupportedException($"A Q8_0 KV cache needs HeadDim a multiple of 32 (got {headDim}).");
            (_k8, _ks) = KvQ8.Allocate(layers, n);
            (_v8, _vs) = KvQ8.Allocate(layers, n);
        }
        else
        {
            _k16 = new Half[layers][];
            _v16 = new Half[layers][];
            for (int l = 0; l < layers; l++) { _k16[l] = new Half[n]; _v16[l] = new Half[n]; }
        }
    }

    /// <summary>Creates a cache shaped for <paramref name="config"/>.</summary>
    public static ContiguousKvCache For(ModelConfig config, int capacity, KvCacheType type = KvCacheType.F32)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ContiguousKvCache(config.Layers, config.KvHeads, config.HeadDim, capacity, type);
    }

    /// <summary>Element storage type.</summary>
    public KvCacheType Type { get; }

    /// <inheritdoc/>
    public int Layers { get; }

    /// <inheritdoc/>
    public int KvHeads { get; }

    /// <inheritdoc/>
    public int HeadDim { get; }

    /// <inheritdoc/>
    public int Capacity { get; }

    /// <inheritdoc/>
    public int BlockSize => Capacity;

    /// <inheritdoc/>
    public void Write(int layer, int startPos, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer));
        if (startPos < 0 || count < 0 || startPos + count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), $"positions [{startPos}, {startPos + count}) exceed the cache capacity {Capacity}");
        int row = KvHeads * HeadDim, n = count * row;
        if (keys.Length < n || values.Length < n) throw new ArgumentException("keys/values are shorter than [count, KvHeads·HeadDim]");
        int off = startPos * row;
        if (Type == KvCacheType.F32)
        {
            keys[..n].CopyTo(_k32![layer].AsSpan(off, n));
            values[..n].CopyTo(_v32![layer].AsSpan(off, n));
        }
        else if (Type == KvCacheType.Q8_0)
        {
            KvQ8.Quantize(keys[..n], _k8![layer].AsSpan(off, n), _ks![layer].AsSpan(off / KvQ8.GroupSize, n / KvQ8.GroupSize));
            KvQ8.Quantize(values[..n], _v8![layer].AsSpan(off, n), _vs![layer].AsSpan(off / KvQ8.GroupSize, n / KvQ8.GroupSize));
        }
        else
        {
            // vectorized round to nearest even: the same bits as a (Half) cast for every non-NaN value
            F16Conversion.FromSingleRow(keys[..n], MemoryMarshal.Cast<Half, ushort>(_k16![layer].AsSpan(off, n)));
            F16Conversion.FromSingleRow(values[..n], MemoryMarshal.Cast<Half, ushort>(_v16![layer].AsSpan(off, n)));
        }
    }

    /// <inheritdoc/>
    public void AttendRow(int layer, int length, ReadOnlySpan<float> qRow, int position, int head, in AttentionParameters parameters,
        Span<float> outRow, Span<float> scratch)
    {
        if (Type == KvCacheType.F32)
        {
            var view = new ContiguousKvView<float>(_k32![layer], _v32![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRow<float, ContiguousKvView<float>>(qRow, position, head, view, parameters, outRow, scratch);
        }
        else if (Type == KvCacheType.Q8_0)
        {
            var view = new ContiguousKvView<sbyte>(_k8![layer], _v8![layer], _ks![layer], _vs![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRow<sbyte, ContiguousKvView<sbyte>>(qRow, position, head, view, parameters, outRow, scratch);
        }
        else
        {
            var view = new ContiguousKvView<Half>(_k16![layer], _v16![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRow<Half, ContiguousKvView<Half>>(qRow, position, head, view, parameters, outRow, scratch);
        }
    }

    /// <inheritdoc/>
    public void AttendRows(int layer, int length, ReadOnlySpan<float> q, int qStride, int rows, int firstPosition, int head,
        in AttentionParameters parameters, Span<float> output, int outStride, Span<float> scratch)
    {
        if (Type == KvCacheType.F32)
        {
            var view = new ContiguousKvView<float>(_k32![layer], _v32![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRows<float, ContiguousKvView<float>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
        else if (Type == KvCacheType.Q8_0)
        {
            var view = new ContiguousKvView<sbyte>(_k8![layer], _v8![layer], _ks![layer], _vs![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRows<sbyte, ContiguousKvView<sbyte>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
        else
        {
            var view = new ContiguousKvView<Half>(_k16![layer], _v16![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardRows<Half, ContiguousKvView<Half>>(q, qStride, rows, firstPosition, head, view, parameters, output, outStride, scratch);
        }
    }

    /// <inheritdoc/>
    public void AttendHeads(int layer, int length, ReadOnlySpan<float> q, int heads, int position, int firstHead,
        in AttentionParameters parameters, Span<float> output, Span<float> scratch)
    {
        if (Type == KvCacheType.F32)
        {
            var view = new ContiguousKvView<float>(_k32![layer], _v32![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardHeads<float, ContiguousKvView<float>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
        else if (Type == KvCacheType.Q8_0)
        {
            var view = new ContiguousKvView<sbyte>(_k8![layer], _v8![layer], _ks![layer], _vs![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardHeads<sbyte, ContiguousKvView<sbyte>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
        else
        {
            var view = new ContiguousKvView<Half>(_k16![layer], _v16![layer], length, KvHeads, HeadDim);
            CausalAttention.ForwardHeads<Half, ContiguousKvView<Half>>(q, heads, position, firstHead, view, parameters, output, scratch);
        }
    }
}
