using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q4_K: 256 weights, 4.5 bits each (144 bytes). Eight 32-element groups with 6-bit scale sc and
/// min m (packed in 12 bytes); value = d * sc * q - dmin * m, q in 0..15. qs: 32 bytes per 64 elements, low
/// nibbles are the first 32, high nibbles the next 32.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 144;
    /// <summary>Super-block scale of the scales (fp16 bits).</summary>
    public ushort D;
    /// <summary>Super-block scale of the mins (fp16 bits).</summary>
    public ushort DMin;
    /// <summary>Scales and mins, 6 bits each. [12]</summary>
    public fixed byte Scales[12];
    /// <summary>4-bit quants. [128]</summary>
    public fixed byte Qs[128];
}
