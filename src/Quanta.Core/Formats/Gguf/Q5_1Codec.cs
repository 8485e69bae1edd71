using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q5_1: 32-element blocks of 5-bit codes with fp16 scale and minimum, value = q * d + m.
/// Rows are n / 32 consecutive <see cref="BlockQ5_1"/> (24 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q5_1_ref (what llama-quantize writes, byte for byte); <see cref="DequantizeReference"/> is ggml's
/// dequantize_row_q5_1; <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q5_1Codec : LegacyRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q5_1Codec Instance { get; } = new();

    /// <summary>Creates the codec (stateless; <see cref="Instance"/> is the shared one).</summary>
    public Q5_1Codec() : base(LegacyBlockOps<Q5_1Block>.Instance, "Q5_1") { }

    /// <inheritdoc/>
    private protected override void QuantizeBlock(float* x, byte* y)
    {
        float min = float.MaxValue, max = float.MinValue;
        for (int j = 0; j < 32; j++)
        {
            float v = x[j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 31f;
        float id = d != 0f ? 1f / d : 0f;
        *(ushort*)y = LegacyQuantMath.Fp32ToFp16(d);
        *(ushort*)(y + 2) = LegacyQuantMath.Fp32ToFp16(min);
        byte* qs = y + 8;
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            // C: uint8_t xi = (uint8_t)(x + 0.5f) (no clamp in ggml), cvttss2si + low byte
            byte xi0 = unchecked((byte)LegacyQuantMath.TruncToInt32X86((x[j] - min) * id + 0.5f));
            byte xi1 = unchecked((byte)LegacyQuantMath.TruncToInt32X86((x[16 + j] - min) * id + 0.5f));
            qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(y + 4, qh);
    }

}
