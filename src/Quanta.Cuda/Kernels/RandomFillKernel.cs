using ILGPU;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Random weights generated on the device (benchmarks): element i is uniform in [−amplitude, amplitude) from a
/// counter-based hash of (seed, i) (SplitMix64 finalizer), stored as BF16 (format 0) or as E4M3 with scale
/// amplitude/448 (format 1). Deterministic for a seed, independent of launch geometry.
/// </summary>
internal static class RandomFillKernel
{
    public static void Run(Index1D i, ArrayView<byte> dst, ulong seed, float amplitude, int format)
    {
        float u = Uniform(seed, (ulong)(int)i) * 2f - 1f;
        float v = u * amplitude;
        if (format == 0)
        {
            ushort b = NumberBits.ToBf16(v);
            dst[2L * i] = (byte)b;
            dst[2L * i + 1] = (byte)(b >> 8);
        }
        else dst[i] = NumberBits.ToE4M3(v / (amplitude / 448f));
    }

    /// <summary>Uniform float in [0, 1) from (seed, counter).</summary>
    public static float Uniform(ulong seed, ulong counter)
    {
        ulong z = seed + (counter + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1f / 16777216f);
    }
}
