using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Engine.Sampling;

/// <summary>
/// w[i] = exp((x[i] − max)·scale) and, per chunk of <see cref="ChunkSize"/> elements, s[c] = Σ w over the chunk.
/// Σ s is the softmax normalizer; scanning s then one chunk of w draws from the distribution without a scalar
/// exp per vocabulary entry. Shapes: x, w are [n]; s is [ceil(n / ChunkSize)]. −∞ inputs give 0.
/// Requires scale &gt; 0 and x[i] ≤ max. SIMD and scalar reference agree within float rounding of exp
/// (~1e-6 relative) and of the in-chunk summation order.
/// </summary>
internal static class ChunkedExp
{
    /// <summary>Elements per chunk sum (a multiple of 16 so every vector width tiles it).</summary>
    public const int ChunkSize = 64;

    /// <summary>Number of chunk sums for <paramref name="n"/> elements.</summary>
    public static int ChunkCount(int n) => (n + ChunkSize - 1) / ChunkSize;

    /// <summary>SIMD dispatch: Vector512 → Vector256 → Vector128 → scalar.</summary>
    public static void Compute(ReadOnlySpan<float> x, float max, float scale, Span<float> w, Span<double> chunkSums)
    {
        int n = x.Length;
        if (w.Length < n || chunkSums.Length < ChunkCount(n)) throw new ArgumentException("Output buffers are too short.");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ws = ref MemoryMarshal.GetReference(w);
        int full = n / ChunkSize;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(max);
            var sc = Vector512.Create(scale);
            for (int c = 0; c < full; c++)
            {
                var acc = Vector512<float>.Zero;
                for (int i = c * ChunkSize, end = i + ChunkSize; i < end; i += 16)
                {
                    var e = FastExp.Exp((Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * sc);
                    e.StoreUnsafe(ref ws, (nuint)i);
                    acc += e;
                }
                chunkSums[c] = Vector512.Sum(acc);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            var sc = Vector256.Create(scale);
            for (int c = 0; c < full; c++)
            {
                var acc = Vector256<float>.Zero;
                for (int i = c * ChunkSize, end = i + ChunkSize; i < end; i += 8)
                {
                    var e = FastExp.Exp((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * sc);
                    e.StoreUnsafe(ref ws, (nuint)i);
                    acc += e;
                }
                chunkSums[c] = Vector256.Sum(acc);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128.Create(max);
            var sc = Vector128.Create(scale);
            for (int c = 0; c < full; c++)
            {
                var acc = Vector128<float>.Zero;
                for (int i = c * ChunkSize, end = i + ChunkSize; i < end; i += 4)
                {
                    var e = FastExp.Exp((Vector128.LoadUnsafe(ref xs, (nuint)i) - m) * sc);
                    e.StoreUnsafe(ref ws, (nuint)i);
                    acc += e;
                }
                chunkSums[c] = Vector128.Sum(acc);
            }
        }
        else
        {
            full = 0;
        }
        ScalarChunks(x, max, scale, w, chunkSums, full);
    }

    /// <summary>Scalar reference: sequential <see cref="MathF.Exp"/>, chunk sums accumulated in double.</summary>
    public static void ComputeReference(ReadOnlySpan<float> x, float max, float scale, Span<float> w, Span<double> chunkSums)
    {
        if (w.Length < x.Length || chunkSums.Length < ChunkCount(x.Length)) throw new ArgumentException("Output buffers are too short.");
        ScalarChunks(x, max, scale, w, chunkSums, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarChunks(ReadOnlySpan<float> x, float max, float scale, Span<float> w, Span<double> chunkSums, int firstChunk)
    {
        int n = x.Length;
        for (int c = firstChunk, chunks = ChunkCount(n); c < chunks; c++)
        {
            double acc = 0;
            for (int i = c * ChunkSize, end = Math.Min(n, i + ChunkSize); i < end; i++)
            {
                float e = MathF.Exp((x[i] - max) * scale);
                w[i] = e;
                acc += e;
            }
            chunkSums[c] = acc;
        }
    }
}
