using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One Q8_1 block: 32 values as int8 codes q, value = q * d, plus s = d * (sum of the 32 codes)
/// (fp16) so that a dot product with an offset format (Q4_1, Q5_1) can add m * s per block.
/// Layout (36 bytes, packed, little-endian) exactly as ggml's block_q8_1 in ggml-common.h.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    /// <summary>Elements per block.</summary>
    public const int Elements = 32;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 36;

    /// <summary>Scale d, fp16 bits.</summary>
    public ushort D;

    /// <summary>d * sum(Qs), fp16 bits (d here is the fp32 scale before its rounding to fp16).</summary>
    public ushort S;

    /// <summary>Signed 8-bit codes, shape [32], element order.</summary>
    public fixed sbyte Qs[32];
}
