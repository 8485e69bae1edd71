using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q5_K: 256 weights, 5.5 bits each (176 bytes). As Q4_K plus a fifth bit per quant: element
/// 64*c + l (l &lt; 32) takes bit 2c of qh[l], element 64*c + 32 + l takes bit 2c+1; q in 0..31.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 176;
    /// <summary>Super-block scale of the scales (fp16 bits).</summary>
    public ushort D;
    /// <summary>Super-block scale of the mins (fp16 bits).</summary>
    public ushort DMin;
    /// <summary>Scales and mins, 6 bits each. [12]</summary>
    public fixed byte Scales[12];
    /// <summary>High bits. [32]</summary>
    public fixed byte Qh[32];
    /// <summary>Low 4 bits. [128]</summary>
    public fixed byte Qs[128];
}
