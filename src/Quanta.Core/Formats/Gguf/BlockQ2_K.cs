using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q2_K: 256 weights, 2.625 bits each (84 bytes). Value = d * (scales[g] &amp; 15) * q - dmin * (scales[g] >> 4)
/// for 16-element group g, q in 0..3. qs packs four 2-bit quants per byte: byte l of each 32-byte run holds
/// elements l, l+32, l+64, l+96 of its 128-element half in bits 0-1, 2-3, 4-5, 6-7.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 84;
    /// <summary>Per-16 scale (low nibble) and min (high nibble). [16]</summary>
    public fixed byte Scales[16];
    /// <summary>2-bit quants. [64]</summary>
    public fixed byte Qs[64];
    /// <summary>Super-block scale of the scales (fp16 bits).</summary>
    public ushort D;
    /// <summary>Super-block scale of the mins (fp16 bits).</summary>
    public ushort DMin;
}
