using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q5_0: 32-element blocks of 5-bit codes (4 low bits packed in nibbles, fifth bits in a uint32) with an fp16 scale, value = (q - 16) * d.
/// Rows are n / 32 consecutive <see cref="BlockQ5_0"/> (22 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q5_0_ref (what llama-quantize writes, byte for byte); <see cref="DequantizeReference"/> is ggml's
/// dequantize_row_q5_0; <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q5_0Codec : LegacyRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q5_0Codec Instance { get; } = new();

    /// <summary>Creates the codec (stateless; <see cref="Instance"/> is the shared one).</summary>
    public Q5_0Codec() : base(LegacyBlockOps<Q5_0Block>.Instance, "Q5_0") { }

    /// <inheritdoc/>
    private protected override void QuantizeBlock(float* x, byte* y)
    {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++)
        {
            float a = MathF.Abs(x[j]);
            if (amax < a) { amax = a; max = x[j]; }
        }
        float d = max / -16f;
        float id = d != 0f ? 1f / d : 0f;
        *(ushort*)y = LegacyQuantMath.Fp32ToFp16(d);
        byte* qs = y + 6;
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            byte xi0 = (byte)Math.Min(31, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86(x[j] * id + 16.5f)));
            byte xi1 = (byte)Math.Min(31, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86(x[16 + j] * id + 16.5f)));
            qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(y + 2, qh);
    }

}
