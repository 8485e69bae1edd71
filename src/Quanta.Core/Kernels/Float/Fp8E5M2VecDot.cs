using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Formats.Float;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Float;

/// <summary>
/// FP8 E5M2 weights (<see cref="WeightFormat.Fp8E5M2"/>) x F32 activations. Weight row of n elements: 4 + n bytes,
/// <c>[float32 scale (little-endian)][n <see cref="Fp8E5M2"/> codes]</c> (see <see cref="Fp8E5M2Codec"/>);
/// activation: n float32 (<see cref="QuantizeActivation"/> copies). Result: scale * sum Decode(code_i) * x_i.
/// <see cref="DotReference"/> decodes through the exact table and accumulates in F64. <see cref="Dot"/> decodes in
/// registers (codes sign-extended to int32, bits shifted into F32 position, one multiply by a power of two; no table,
/// no per-element branch) and streams the row once into four independent F32 vector accumulators; a chunk that holds a
/// inf/NaN (exponent 31) code is decoded with the exact variant (one compare and select more) so specials propagate as in the
/// reference.
/// Tolerance against the reference: |Dot - DotReference| &lt;= 1e-5 * |scale| * sum |Decode(code_i) x_i|.
/// </summary>
public sealed class Fp8E5M2VecDot : IVecDotKernel
{
    /// <summary>Kernel name used in logs and <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "fp8e5m2*f32";

    /// <summary>The shared stateless instance.</summary>
    public static readonly Fp8E5M2VecDot Instance = new();

    /// <inheritdoc/>
    public WeightFormat Format => WeightFormat.Fp8E5M2;
    /// <inheritdoc/>
    public string Name => KernelName;
    /// <inheritdoc/>
    public int BlockSize => 1;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => 4L + n;
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked(4 * n);

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => x.CopyTo(MemoryMarshal.Cast<byte, float>(dst));

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n) =>
        Fp8VecDotCore.DotReference<E5M2Traits>(weightRow, activation, n);

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n) =>
        Fp8VecDotCore.Dot<E5M2Traits>(weightRow, activation, n, KernelName);
}
