using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q3_K: 256 weights, 3.4375 bits each (110 bytes). Value = d * (scale[g] - 32) * (q2 - (h ? 0 : 4)) where
/// q2 is the 2-bit quant (same packing as Q2_K), h the element's bit in hmask (element e uses byte e % 32,
/// bit e / 32) and scale[g] the 6-bit scale of 16-element group g (low 4 bits in scales[0..8), high 2 bits in scales[8..12)).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 110;
    /// <summary>High bit of each quant. [32]</summary>
    public fixed byte HMask[32];
    /// <summary>Low 2 bits of each quant. [64]</summary>
    public fixed byte Qs[64];
    /// <summary>Sixteen 6-bit scales, packed. [12]</summary>
    public fixed byte Scales[12];
    /// <summary>Super-block scale (fp16 bits).</summary>
    public ushort D;
}
