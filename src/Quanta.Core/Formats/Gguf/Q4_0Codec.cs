using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q4_0: 32-element blocks of 4-bit codes with an fp16 scale, value = (q - 8) * d.
/// Rows are n / 32 consecutive <see cref="BlockQ4_0"/> (18 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q4_0_ref (what llama-quantize writes, byte for byte); <see cref="DequantizeReference"/> is ggml's
/// dequantize_row_q4_0; <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q4_0Codec : LegacyRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q4_0Codec Instance { get; } = new();

    /// <summary>Creates the codec (stateless; <see cref="Instance"/> is the shared one).</summary>
    public Q4_0Codec() : base(LegacyBlockOps<Q4_0Block>.Instance, "Q4_0") { }

    /// <inheritdoc/>
    private protected override void QuantizeBlock(float* x, byte* y)
    {
        // d = (the value of largest magnitude, first one on ties) / -8, so that value maps to code 0
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++)
        {
            float a = MathF.Abs(x[j]);
            if (amax < a) { amax = a; max = x[j]; }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        *(ushort*)y = LegacyQuantMath.Fp32ToFp16(d);
        byte* qs = y + 2;
        for (int j = 0; j < 16; j++)
        {
            // C: uint8_t xi = MIN(15, (int8_t)(x*id + 8.5f)), the int8 cast compiled as cvttss2si + low byte
            byte xi0 = (byte)Math.Min(15, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86(x[j] * id + 8.5f)));
            byte xi1 = (byte)Math.Min(15, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86(x[16 + j] * id + 8.5f)));
            qs[j] = (byte)(xi0 | (xi1 << 4));
        }
    }

}
