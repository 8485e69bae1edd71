using Quanta.Core.Formats;

namespace Quanta.Core.Kernels;

/// <summary>
/// Dot product of one weight row in <see cref="Format"/> with one activation row, the building block of
/// every matrix x vector and matrix x matrix product.
/// Contract:
/// <list type="bullet">
/// <item>Activations arrive as F32 and are first converted once per row of x with
/// <see cref="QuantizeActivation"/> into the kernel's activation format (Q8_0, Q8_1, Q8_K, F16, BF16 or F32,
/// matching what llama.cpp's CPU backend does at run time for the GGUF formats); the converted row is reused
/// for every weight row.</item>
/// <item><c>n</c> (elements) must be a multiple of <see cref="BlockSize"/>; spans must hold at least
/// <see cref="WeightRowBytes"/>(n) and <see cref="ActivationRowBytes"/>(n) bytes.</item>
/// <item><see cref="DotReference"/> is the scalar reference; <see cref="Dot"/> dispatches
/// Vector512 -> Vector256 -> Vector128 -> scalar and agrees with the reference within the format's stated tolerance.</item>
/// <item>Implementations are stateless and thread-safe; they never allocate.</item>
/// </list>
/// </summary>
public interface IVecDotKernel
{
    /// <summary>Weight row layout this kernel reads.</summary>
    WeightFormat Format { get; }

    /// <summary>Short name for logs and benchmarks, e.g. "q4_0*q8_0".</summary>
    string Name { get; }

    /// <summary>Row length granularity in elements.</summary>
    int BlockSize { get; }

    /// <summary>Bytes of one weight row of <paramref name="n"/> elements.</summary>
    long WeightRowBytes(int n);

    /// <summary>Bytes of one converted activation row of <paramref name="n"/> elements.</summary>
    int ActivationRowBytes(int n);

    /// <summary>Converts an F32 activation row into this kernel's activation format.</summary>
    void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst);

    /// <summary>Dot product of a weight row with a converted activation row (SIMD dispatch).</summary>
    float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n);

    /// <summary>Scalar reference of <see cref="Dot"/>.</summary>
    float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n);
}
