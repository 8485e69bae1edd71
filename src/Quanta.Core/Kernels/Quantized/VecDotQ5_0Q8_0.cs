using Quanta.Core.Formats;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Dot product of a Q5_0 weight row with a Q8_0 activation row ("q5_0*q8_0"), as llama.cpp's CPU backend computes it.
/// Activations are converted by <see cref="Q8Activation.QuantizeQ8_0"/> (ggml-cpu's x86 quantizer, bit for bit).
/// Per 32-element block the int8 products are summed exactly in int32 (vpmaddubsw with the sign trick: |w| times a carrying w's sign + vpmaddwd with ones),
/// then scaled by d_w * d_a in fp32; <see cref="Dot"/> and <see cref="DotReference"/> differ only in the
/// order of the fp32 accumulation. <see cref="DotReference"/> is bit-identical to ggml's scalar
/// ggml_vec_dot_q5_0_q8_0_generic as compiled for x86-64 with FMA.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed class VecDotQ5_0Q8_0 : LegacyVecDotKernel
{
    /// <summary>The shared instance.</summary>
    public static VecDotQ5_0Q8_0 Instance { get; } = new();

    /// <summary>Creates the kernel (stateless; <see cref="Instance"/> is the shared one).</summary>
    public VecDotQ5_0Q8_0() : base(LegacyBlockOps<Q5_0Block>.Instance, WeightFormat.Q5_0, "q5_0*q8_0") { }
}
