using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// ggml block_q8_K: 256 values (292 bytes), the activation format the K-quant dot products consume.
/// Value = d * qs[i]; bsums[g] is the sum of qs over 16-element group g (used for the min terms).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    /// <summary>Bytes per block.</summary>
    public const int Size = 292;
    /// <summary>Scale (F32).</summary>
    public float D;
    /// <summary>Quants. [256]</summary>
    public fixed sbyte Qs[256];
    /// <summary>Sums of 16 quants each. [16]</summary>
    public fixed short BSums[16];
}
