using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One Q8_0 block: 32 values as int8 codes q, value = q * d.
/// Layout (34 bytes, packed, little-endian) exactly as ggml's block_q8_0 in ggml-common.h.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    /// <summary>Elements per block.</summary>
    public const int Elements = 32;

    /// <summary>Bytes per block.</summary>
    public const int Bytes = 34;

    /// <summary>Scale d, fp16 bits.</summary>
    public ushort D;

    /// <summary>Signed 8-bit codes, shape [32], element order.</summary>
    public fixed sbyte Qs[32];
}
