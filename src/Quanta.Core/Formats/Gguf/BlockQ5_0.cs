using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One Q5_0 block: 32 weights as 5-bit codes q in [0, 31], value = (q - 16) * d.
/// Low 4 bits of element j (0..15) are the low nibble of Qs[j], of element j + 16 the high nibble;
/// bit 4 of element j (0..31) is bit j of the little-endian uint32 Qh.
/// Layout (22 bytes, packed, little-endian) exactly as ggml's block_q5_0 in ggml-common.h.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    /// <summary>Elements per block.</summary>
    public const int Elements = 32;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 22;

    /// <summary>Scale d, fp16 bits.</summary>
    public ushort D;

    /// <summary>Fifth bits of the 32 codes, shape [4] bytes = one little-endian uint32, bit j for element j.</summary>
    public fixed byte Qh[4];

    /// <summary>Low 4 bits of the codes, shape [16] bytes = 32 nibbles.</summary>
    public fixed byte Qs[16];
}
