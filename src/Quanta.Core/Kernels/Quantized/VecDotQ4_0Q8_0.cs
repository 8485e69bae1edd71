using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Dot product of a Q4_0 weight row with a Q8_0 activation row ("q4_0*q8_0"), as llama.cpp's CPU backend computes it.
/// Activations are converted by <see cref="Q8Activation.QuantizeQ8_0"/> (ggml-cpu's x86 quantizer, bit for bit).
/// Per 32-element block the int8 products are summed exactly in int32 (vpmaddubsw with the sign trick: |w| times a carrying w's sign + vpmaddwd with ones),
/// then scaled by d_w * d_a in fp32; <see cref="Dot"/> and <see cref="DotReference"/> differ only in the
/// order of the fp32 accumulation. <see cref="DotReference"/> is bit-identical to ggml's scalar
/// ggml_vec_dot_q4_0_q8_0_generic as compiled for x86-64 with FMA.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public sealed unsafe class VecDotQ4_0Q8_0 : IVecDotKernel
{
    private const string KernelName = "q4_0*q8_0";

    /// <summary>The shared instance.</summary>
    public static VecDotQ4_0Q8_0 Instance { get; } = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.Q4_0;

    /// <inheritdoc/>
    public string Name => KernelName;

    /// <inheritdoc/>
    public int BlockSize => 32;

    /// <inheritdoc/>
    public long WeightRowBytes(int n) => LegacyRows.RowBytes(n, BlockQ4_0.Bytes);

    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => (int)LegacyRows.RowBytes(n, BlockQ8_0.Bytes);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => Q8Activation.QuantizeQ8_0(x, dst);

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return LegacyDot<Q4_0Block>.Dot(w, a, nb, KernelName);
    }

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return LegacyDot<Q4_0Block>.Reference(w, a, nb);
    }

    /// <summary>Runs one named SIMD path (tests cover every path on one machine); the path must be supported.</summary>
    internal float DotPath(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n, Simd.SimdPath path, bool portable128)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return LegacyDot<Q4_0Block>.DotPath(w, a, nb, path, portable128);
    }

    private static int Check(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = LegacyRows.Blocks(n, weightRow.Length, BlockQ4_0.Bytes);
        LegacyRows.Blocks(n, activation.Length, BlockQ8_0.Bytes);
        return nb;
    }
}
