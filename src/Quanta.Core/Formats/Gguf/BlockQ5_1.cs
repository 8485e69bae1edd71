using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One Q5_1 block: 32 weights as 5-bit codes q in [0, 31], value = q * d + m.
/// Nibble and fifth-bit placement as in <see cref="BlockQ5_0"/>.
/// Layout (24 bytes, packed, little-endian) exactly as ggml's block_q5_1 in ggml-common.h.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    /// <summary>Elements per block.</summary>
    public const int Elements = 32;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 24;

    /// <summary>Scale d, fp16 bits.</summary>
    public ushort D;

    /// <summary>Offset m (the block minimum), fp16 bits.</summary>
    public ushort M;

    /// <summary>Fifth bits of the 32 codes, shape [4] bytes = one little-endian uint32, bit j for element j.</summary>
    public fixed byte Qh[4];

    /// <summary>Low 4 bits of the codes, shape [16] bytes = 32 nibbles.</summary>
    public fixed byte Qs[16];
}
