using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One Q4_1 block: 32 weights as 4-bit codes q in [0, 15], value = q * d + m.
/// Element j (0..15) is the low nibble of Qs[j]; element j + 16 is its high nibble.
/// Layout (20 bytes, packed, little-endian) exactly as ggml's block_q4_1 in ggml-common.h.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    /// <summary>Elements per block.</summary>
    public const int Elements = 32;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 20;

    /// <summary>Scale d, fp16 bits.</summary>
    public ushort D;

    /// <summary>Offset m (the block minimum), fp16 bits.</summary>
    public ushort M;

    /// <summary>Packed 4-bit codes, shape [16] bytes = 32 nibbles.</summary>
    public fixed byte Qs[16];
}
