using System.Runtime.CompilerServices;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Gemm;

/// <summary>
/// A symmetric 32-element weight block the Q8_0 GEMM (<see cref="Q8Gemm"/>) reads: fp16 scale d at byte 0, codes after it.
/// Implemented by empty structs so the JIT specializes the tile loops per format.
/// </summary>
internal unsafe interface IGemmWeight
{
    /// <summary>Bytes per 32-element block.</summary>
    static abstract int Bytes { get; }

    /// <summary>True for 4-bit codes (two per byte, low nibbles = elements 0..15, value = nibble − 8); false for int8 codes.</summary>
    static abstract bool Nibble { get; }

    /// <summary>Signed code of element <paramref name="j"/> (0..31) of the block at <paramref name="b"/>.</summary>
    static abstract int Code(byte* b, int j);
}

/// <summary>Q4_0: d (fp16), 16 bytes of nibbles.</summary>
internal readonly unsafe struct GemmQ4_0 : IGemmWeight
{
    public static int Bytes => BlockQ4_0.Bytes;
    public static bool Nibble => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(byte* b, int j) => (j < 16 ? b[2 + j] & 0x0F : b[2 + j - 16] >> 4) - 8;
}

/// <summary>Q8_0: d (fp16), 32 int8 codes.</summary>
internal readonly unsafe struct GemmQ8_0 : IGemmWeight
{
    public static int Bytes => BlockQ8_0.Bytes;
    public static bool Nibble => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(byte* b, int j) => ((sbyte*)(b + 2))[j];
}

/// <summary>Compile-time tile extent (rows or tokens) for the generic tile loops.</summary>
internal interface ITileCount
{
    /// <summary>The extent, 1..4 (8 for the one-token Q4_0 rows, <see cref="Q8Gemm"/>).</summary>
    static abstract int N { get; }
}

internal readonly struct Tile1 : ITileCount { public static int N => 1; }
internal readonly struct Tile2 : ITileCount { public static int N => 2; }
internal readonly struct Tile3 : ITileCount { public static int N => 3; }
internal readonly struct Tile4 : ITileCount { public static int N => 4; }
internal readonly struct Tile8 : ITileCount { public static int N => 8; }
