using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Activation row of the legacy dot kernels (<see cref="LegacyVecDotKernel"/>): the ggml blocks first, byte for byte what
/// ggml-cpu's quantizer writes (Q8_0: 34-byte blocks, Q8_1: 36-byte blocks). The kernels of 4/5-bit weights (nibble-order
/// kernels) append per-block values their wide path loads 16 blocks at a time instead of decoding them block by block;
/// the Q8_0-weight kernel uses the ggml blocks alone:
/// <code>
/// [nb x block bytes: ggml Q8_0 / Q8_1 blocks] [0 or 2 pad bytes to a multiple of 4]
/// [nb x float: d of each block, fp16 widened exactly]
/// [nb x 32-bit: Q8_0: int32 sum of the block's 32 codes; Q8_1: float s of the block, fp16 widened exactly]
/// [pad to a multiple of 64] [nb x 32 codes in nibble order]
/// </code>
/// Nibble order: for each group of 4 blocks (complete groups only), 64 bytes of elements 0..15 of blocks 0, 1, 2, 3,
/// then 64 bytes of their elements 16..31, matching the low and high nibbles of the 4 blocks' packed weights as one
/// 512-bit load lays them out.
/// </summary>
internal static unsafe class LegacyActivationLayout
{
    /// <summary>Byte offset of the float d array in a row of <paramref name="nb"/> blocks of <paramref name="blockBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScalesOffset(int nb, int blockBytes) => (nb * blockBytes + 3) & ~3;

    /// <summary>Byte offset of the nibble-order codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CodesOffset(int nb, int blockBytes) => (ScalesOffset(nb, blockBytes) + 8 * nb + 63) & ~63;

    /// <summary>Bytes of an activation row of <paramref name="n"/> elements (n a non-negative multiple of 32).</summary>
    public static long RowBytes(int n, int blockBytes, bool nibbleCodes)
    {
        LegacyRows.RowBytes(n, blockBytes);
        long nb = n / LegacyRows.BlockSize;
        long scales = (nb * blockBytes + 3) & ~3L;
        return nibbleCodes ? ((scales + 8 * nb + 63) & ~63L) + 32 * nb : nb * blockBytes;
    }

    /// <summary>Fills the per-block arrays and the nibble-order codes of a row whose ggml blocks are written (nothing to do
    /// for a row without them).</summary>
    public static void Complete(Span<byte> row, int nb, bool q8_1, bool nibbleCodes)
    {
        if (!nibbleCodes) return;
        int bs = q8_1 ? BlockQ8_1.Bytes : BlockQ8_0.Bytes, qo = q8_1 ? 4 : 2;
        if (row.Length < RowBytes(nb * LegacyRows.BlockSize, bs, nibbleCodes)) throw new ArgumentException("activation row too short", nameof(row));
        fixed (byte* p = row)
        {
            float* d = (float*)(p + ScalesOffset(nb, bs));
            int* extra = (int*)(d + nb);
            for (int ib = 0; ib < nb; ib++)
            {
                byte* b = p + (nint)ib * bs;
                d[ib] = Fp16Table.Load(b);
                if (q8_1)
                {
                    ((float*)extra)[ib] = Fp16Table.Load(b + 2);
                }
                else
                {
                    Vector256<sbyte> q = Vector256.Load((sbyte*)(b + 2));
                    Vector256<short> w = Vector256.WidenLower(q) + Vector256.WidenUpper(q);
                    extra[ib] = Vector256.Sum(Vector256.WidenLower(w) + Vector256.WidenUpper(w));
                }
            }
            byte* codes = p + CodesOffset(nb, bs);
            for (int g = 0; g + 4 <= nb; g += 4, codes += 128)
            {
                for (int k = 0; k < 4; k++)
                {
                    byte* q = p + (nint)(g + k) * bs + qo;
                    Vector128.Load(q).Store(codes + 16 * k);
                    Vector128.Load(q + 16).Store(codes + 64 + 16 * k);
                }
            }
        }
    }
}
