using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// IEEE half to F32 by table lookup: all 65536 conversions computed once (256 KiB, process lifetime) with the
/// exact software conversion, so a lookup returns the same bits as <c>(float)Half</c> for every input (NaN
/// payloads included). .NET exposes no F16C conversion, and the software conversion costs about 20 instructions;
/// block scales of the quantized formats are converted once or twice per 32 elements in the dot kernels, where a
/// lookup (one load, the few entries real scales use stay in L1) is what ggml does without F16C.
/// </summary>
internal static unsafe class Fp16Table
{
    /// <summary>[65536] floats, entry h = the F32 value of half bits h; 64-byte aligned, never freed.</summary>
    private static readonly float* s_table = Build();

    private static float* Build()
    {
        var t = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int h = 0; h < 65536; h++) t[h] = (float)BitConverter.UInt16BitsToHalf((ushort)h);
        return t;
    }

    /// <summary>F32 value of half bits <paramref name="h"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort h) => s_table[h];

    /// <summary>F32 value of the little-endian half stored at <paramref name="p"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(byte* p) => s_table[Unsafe.ReadUnaligned<ushort>(p)];
}
