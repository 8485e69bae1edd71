using Quanta.Core.Formats;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Dot product of a Q4_1 weight row with a Q8_1 activation row ("q4_1*q8_1"), as llama.cpp's CPU backend computes it.
/// Activations are converted by <see cref="Q8Activation.QuantizeQ8_1"/> (ggml-cpu's x86 quantizer, bit for bit).
/// Per 32-element block the int8 products are summed exactly in int32 (vpmaddubsw on the weight codes directly, which are unsigned + vpmaddwd with ones),
/// then scaled by d_w * d_a in fp32 plus m_w * s_a (s_a = d_a * sum of the activation codes, stored in the Q8_1 block); <see cref="Dot"/> and <see cref="DotReference"/> differ only in the
/// order of the fp32 accumulation. <see cref="DotReference"/> is bit-identical to ggml's scalar
/// ggml_vec_dot_q4_1_q8_1_generic as compiled for x86-64 with FMA.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed class VecDotQ4_1Q8_1 : LegacyVecDotKernel
{
    /// <summary>The shared instance.</summary>
    public static VecDotQ4_1Q8_1 Instance { get; } = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ4_1Q8_1() : base(LegacyBlockOps<Q4_1Block>.Instance, WeightFormat.Q4_1, "q4_1*q8_1") { }
}
