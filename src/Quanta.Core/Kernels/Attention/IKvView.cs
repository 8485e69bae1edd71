namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// Read access to one layer's K and V cache for attention. Positions 0..<see cref="Length"/>−1 are stored in blocks of
/// <see cref="BlockSize"/> consecutive positions; block b holds positions [b·BlockSize, (b+1)·BlockSize).
/// <see cref="KeyBlock"/> and <see cref="ValueBlock"/> return the whole block; the HeadDim elements of position i of
/// the block (0 ≤ i &lt; BlockSize) and KV head h start at i·<see cref="PositionStride"/> + h·<see cref="HeadStride"/>
/// (the last block may be partly filled; only positions &lt; Length are read). Position-major blocks
/// [BlockSize, KvHeads, HeadDim] have strides (KvHeads·HeadDim, HeadDim); head-major blocks [KvHeads, BlockSize,
/// HeadDim] have (HeadDim, BlockSize·HeadDim), so one head's rows are contiguous. A contiguous cache is one big
/// position-major block; a paged cache maps b through its block table. Element type <typeparamref name="T"/> is <see cref="float"/>,
/// <see cref="Half"/> or <see cref="sbyte"/>: Q8_0 codes, 32 consecutive elements sharing one F16 scale (llama.cpp's Q8_0 block
/// split in two arrays), element e of a block being code[e] · <see cref="KeyScaleBlock"/>[e &gt;&gt; 5] (HeadDim a multiple of
/// 32, so a row's 32-element groups never straddle two scales). Implementations are cheap structs (possibly ref structs)
/// passed by value to the kernel.
/// </summary>
public interface IKvView<T> where T : unmanaged
{
    /// <summary>Number of valid positions.</summary>
    int Length { get; }

    /// <summary>Positions per block (&gt; 0).</summary>
    int BlockSize { get; }

    /// <summary>Key/value heads per position.</summary>
    int KvHeads { get; }

    /// <summary>Elements per head.</summary>
    int HeadDim { get; }

    /// <summary>Elements between the rows of consecutive positions of one head within a block.</summary>
    int PositionStride { get; }

    /// <summary>Elements between the rows of consecutive KV heads at one position within a block.</summary>
    int HeadStride { get; }

    /// <summary>Keys of block <paramref name="block"/> (BlockSize · KvHeads · HeadDim elements; see the strides).</summary>
    ReadOnlySpan<T> KeyBlock(int block);

    /// <summary>Values of block <paramref name="block"/>, laid out as the keys.</summary>
    ReadOnlySpan<T> ValueBlock(int block);

    /// <summary>Q8_0 scales of <see cref="KeyBlock"/> (one per 32 elements; empty unless <typeparamref name="T"/> is <see cref="sbyte"/>).</summary>
    ReadOnlySpan<float> KeyScaleBlock(int block);

    /// <summary>Q8_0 scales of <see cref="ValueBlock"/> (one per 32 elements; empty unless <typeparamref name="T"/> is <see cref="sbyte"/>).</summary>
    ReadOnlySpan<float> ValueScaleBlock(int block);
}
