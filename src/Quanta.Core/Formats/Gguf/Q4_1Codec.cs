using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Formats.Gguf;

/// <summary>
/// One row of Q4_1: 32-element blocks of 4-bit codes with fp16 scale and minimum, value = q * d + m.
/// Rows are n / 32 consecutive <see cref="BlockQ4_1"/> (20 bytes each). <see cref="Quantize"/> is ggml's
/// quantize_row_q4_1_ref (what llama-quantize writes, byte for byte); <see cref="DequantizeReference"/> is ggml's
/// dequantize_row_q4_1; <see cref="Dequantize"/> is its vectorized, bit-identical form.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class Q4_1Codec : LegacyRowCodec
{
    /// <summary>The shared instance.</summary>
    public static Q4_1Codec Instance { get; } = new();

    /// <summary>Creates the codec (stateless; <see cref="Instance"/> is the shared one).</summary>
    public Q4_1Codec() : base(LegacyBlockOps<Q4_1Block>.Instance, "Q4_1") { }

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
        float d = (max - min) / 15f;
        float id = d != 0f ? 1f / d : 0f;
        *(ushort*)y = LegacyQuantMath.Fp32ToFp16(d);
        *(ushort*)(y + 2) = LegacyQuantMath.Fp32ToFp16(min);
        byte* qs = y + 4;
        for (int j = 0; j < 16; j++)
        {
            byte xi0 = (byte)Math.Min(15, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86((x[j] - min) * id + 0.5f)));
            byte xi1 = (byte)Math.Min(15, (int)unchecked((sbyte)LegacyQuantMath.TruncToInt32X86((x[16 + j] - min) * id + 0.5f)));
            qs[j] = (byte)(xi0 | (xi1 << 4));
        }
    }

}
