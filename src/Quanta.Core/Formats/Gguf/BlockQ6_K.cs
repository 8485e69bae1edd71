using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q6_K: 256 weights, 6.5625 bits each (210 bytes). Value = d * scales[g] * (q - 32), q in 0..63, one
/// signed 8-bit scale per 16 elements. Per 128-element half: ql[l] holds elements l (low nibble) and l+64 (high),
/// ql[l+32] holds l+32 and l+96; qh[l] holds the top 2 bits of l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 210;
    /// <summary>Low 4 bits. [128]</summary>
    public fixed byte Ql[128];
    /// <summary>High 2 bits. [64]</summary>
    public fixed byte Qh[64];
    /// <summary>Per-16 scales. [16]</summary>
    public fixed sbyte Scales[16];
    /// <summary>Super-block scale (fp16 bits).</summary>
    public ushort D;
}
