namespace Quanta.Core.Kernels.Attention;

/// <summary>
/// Read access to one layer's K and V cache for attention. Positions 0..<see cref="Length"/>−1 are stored in blocks of
/// <see cref="BlockSize"/> consecutive positions; block b holds positions [b·BlockSize, (b+1)·BlockSize).
/// <see cref="KeyBlock"/> and <see cref="ValueBlock"/> return the whole block laid out [BlockSize, KvHeads, HeadDim]
/// (the last block may be partly filled; only positions &lt; Length are read). A contiguous cache is one big block;
/// a paged cache maps b through its block table. Element type <typeparamref name="T"/> is <see cref="float"/> or
/// <see cref="Half"/>. Implementations are cheap structs (possibly ref structs) passed by value to the kernel.
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

    /// <summary>Keys of block <paramref name="block"/>: [BlockSize, KvHeads, HeadDim].</summary>
    ReadOnlySpan<T> KeyBlock(int block);

    /// <summary>Values of block <paramref name="block"/>: [BlockSize, KvHeads, HeadDim].</summary>
    ReadOnlySpan<T> ValueBlock(int block);
}
