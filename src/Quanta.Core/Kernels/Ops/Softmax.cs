using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Numerically stable softmax with optional input scale and soft-capping:
/// z[i] = scale·x[i]; if softCap &gt; 0, z[i] = softCap·tanh(z[i]/softCap) (Gemma 2); y[i] = exp(z[i] − max z) / Σ exp(z − max z).
/// Shapes: x, y are [n]; <c>y</c> may be <c>x</c>. −∞ inputs give 0 (at least one finite input is required).
/// SIMD and scalar reference agree within 1e-6 absolute + 1e-5 relative.
/// </summary>
public static class Softmax
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "softmax";

    /// <summary>SIMD dispatch.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, float scale = 1f, float softCap = 0f)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        int n = x.Length;
        if (n == 0) return;
        y = y[..n];
        if (softCap > 0f)
        {
            // z = cap·tanh(x·scale/cap), vectorized through the scale / tanh helpers.
            Scale.Forward(x, scale / softCap, y);
            TanhInPlace(y);
            Scale.Forward(y, softCap, y);
        }
        else if (scale != 1f) Scale.Forward(x, scale, y);
        else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y))) x.CopyTo(y);

        float max = Reductions.Max(y);
        float sum = ExpMinusMaxInPlace(y, max);
        Scale.Forward(y, 1f / sum, y);
    }

    /// <summary>y[i] = exp(y[i] − max); returns Σ y.</summary>
    internal static float ExpMinusMaxInPlace(Span<float> y, float max)
    {
        int n = y.Length;
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = Vector512.Exp(Vector512.LoadUnsafe(ref ys, (nuint)i) - m);
                e.StoreUnsafe(ref ys, (nuint)i);
                acc += e;
            }
            sum += Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var m = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref ys, (nuint)i) - m);
                e.StoreUnsafe(ref ys, (nuint)i);
                acc += e;
            }
            sum += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var m = Vector128.Create(max);
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var e = Vector128.Exp(Vector128.LoadUnsafe(ref ys, (nuint)i) - m);
                e.StoreUnsafe(ref ys, (nuint)i);
                acc += e;
            }
            sum += Vector128.Sum(acc);
        }
        double tail = 0;
        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref ys, i) - max);
            Unsafe.Add(ref ys, i) = e;
            tail += e;
        }
        return (float)(sum + tail);
    }

    /// <summary>y[i] = tanh(y[i]) with the vector tanh helper.</summary>
    internal static void TanhInPlace(Span<float> y)
    {
        int n = y.Length;
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) VectorMath.Tanh(Vector512.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) VectorMath.Tanh(Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4) VectorMath.Tanh(Vector128.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ys, i) = VectorMath.Tanh(Unsafe.Add(ref ys, i));
    }

    /// <summary>Scalar reference: sequential, <see cref="MathF.Exp"/>/<see cref="MathF.Tanh"/>, sum in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, float scale = 1f, float softCap = 0f)
    {
        if (y.Length < x.Length) throw new ArgumentException("Output is shorter than input.", nameof(y));
        int n = x.Length;
        if (n == 0) return;
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float z = x[i] * scale;
            if (softCap > 0f) z = softCap * MathF.Tanh(z / softCap);
            y[i] = z;
            max = MathF.Max(max, z);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float e = MathF.Exp(y[i] - max);
            y[i] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < n; i++) y[i] *= inv;
    }
}
