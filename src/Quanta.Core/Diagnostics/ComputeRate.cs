using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Quanta.Core.Diagnostics;

/// <summary>
/// Measures the machine's arithmetic ceilings the way the benchmarks judge kernels against them: every thread runs
/// independent chains of the instruction sequence the kernels are built from, on registers only (no memory traffic),
/// for a fixed time. Like <see cref="MemoryBandwidth"/>, the result is an anchor for "what this machine does right
/// now" (clocks drop with load and temperature), so measure it in the same run as the figure it judges.
/// <list type="bullet">
/// <item><see cref="MeasureInt8"/>: int8 multiply-adds through the sequence the integer weight kernels use on this
/// CPU: <c>vpmaddubsw</c> (u8 × s8 pairs to s16) + <c>vpmaddwd</c> (s16 pairs to s32) + <c>vpaddd</c> on x64
/// (512-bit where AVX-512BW is present, else 256-bit AVX2, else 128-bit SSSE3), <c>sdot</c> on Arm64.</item>
/// <item><see cref="MeasureFp32Fma"/>: fp32 fused multiply-adds at the widest vector width.</item>
/// </list>
/// Operations are counted as 2 per multiply-add (a multiply and an add), the convention of the benchmarks' ceilings
/// ("2 operations per weight per token").
/// </summary>
public static class ComputeRate
{
    /// <summary>Result of one measurement.</summary>
    /// <param name="OpsPerSecond">Operations per second over all threads (2 per multiply-add).</param>
    /// <param name="Threads">Threads that ran.</param>
    /// <param name="Seconds">Wall time measured.</param>
    /// <param name="Instructions">The instruction sequence measured, e.g. "vpmaddubsw+vpmaddwd 512-bit".</param>
    public readonly record struct Reading(double OpsPerSecond, int Threads, double Seconds, string Instructions)
    {
        /// <summary>The rate in GOP/s (10^9 operations).</summary>
        public double GOps => OpsPerSecond / 1e9;
    }

    // Independent accumulator chains per thread: enough to cover the sequence's latency (about 8 cycles on Zen 4 for
    // vpmaddubsw → vpmaddwd → vpaddd) at the issue rate of one 512-bit pair per 2 cycles, with registers to spare.
    private const int Chains = 12;

    // Loop iterations between clock checks: a few hundred microseconds of work, so the check costs nothing.
    private const int Batch = 1 << 14;

    /// <summary>The int8 sequence <see cref="MeasureInt8"/> runs on this CPU.</summary>
    public static string Int8Instructions =>
        Avx512BW.IsSupported ? "vpmaddubsw+vpmaddwd 512-bit" :
        Avx2.IsSupported ? "vpmaddubsw+vpmaddwd 256-bit" :
        Ssse3.IsSupported ? "pmaddubsw+pmaddwd 128-bit" :
        Dp.IsSupported ? "sdot 128-bit" : "scalar";

    /// <summary>The fp32 FMA width <see cref="MeasureFp32Fma"/> runs on this CPU.</summary>
    public static string Fp32Instructions =>
        Avx512F.IsSupported ? "vfmadd 512-bit" :
        Fma.IsSupported ? "vfmadd 256-bit" :
        AdvSimd.IsSupported ? "fmla 128-bit" : "scalar";

    /// <summary>
    /// Runs <paramref name="threads"/> threads of int8 multiply-add chains for about <paramref name="seconds"/> and
    /// returns the rate in operations per second (2 per int8 multiply-add).
    /// </summary>
    public static Reading MeasureInt8(int threads, double seconds = 1.0)
    {
        Validate(threads, seconds);
        return Run(threads, seconds, Int8Instructions, Int8Chains);
    }

    /// <summary>
    /// Runs <paramref name="threads"/> threads of fp32 FMA chains for about <paramref name="seconds"/> and returns the
    /// rate in floating-point operations per second (2 per FMA).
    /// </summary>
    public static Reading MeasureFp32Fma(int threads, double seconds = 1.0)
    {
        Validate(threads, seconds);
        return Run(threads, seconds, Fp32Instructions, FmaChains);
    }

    private static void Validate(int threads, double seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!(seconds > 0) || seconds > 600) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "seconds must be in (0, 600]");
    }

    // Runs body(iterations) on every thread until the time is up; body returns the multiply-adds it did.
    private static Reading Run(int threads, double seconds, string instructions, Func<long, long> body)
    {
        long[] macs = new long[threads * 8];   // one cache line per thread
        var start = new Barrier(threads);
        var sw = new Stopwatch();
        var workers = new Thread[threads];
        body(64);   // JIT the body before the clock starts
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                if (id == 0) sw.Start();
                long done = 0;
                do done += body(Batch);
                while (sw.Elapsed.TotalSeconds < seconds);
                macs[id * 8] = done;
            }) { IsBackground = true, Name = "Quanta compute-rate probe" };
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        double elapsed = sw.Elapsed.TotalSeconds;
        return new Reading(2.0 * macs.Sum() / elapsed, threads, elapsed, instructions);
    }

    // Every chain i: acc_i += maddwd(maddubsw(acc_i as bytes, c), 1). Feeding each chain's value back into its own
    // multiply keeps the JIT from hoisting the multiplies out of the loop; the values saturate harmlessly.
    private static long Int8Chains(long iterations)
    {
        if (Avx512BW.IsSupported) return Int8Avx512(iterations);
        if (Avx2.IsSupported) return Int8Avx2(iterations);
        if (Ssse3.IsSupported) return Int8Ssse3(iterations);
        if (Dp.IsSupported) return Int8Dp(iterations);
        return Int8Scalar(iterations);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Int8Avx512(long iterations)
    {
        Vector512<sbyte> c = Vector512.Create((sbyte)3);
        Vector512<short> one = Vector512<short>.One;
        Vector512<int> a0 = Vector512.Create(1), a1 = Vector512.Create(2), a2 = Vector512.Create(3), a3 = Vector512.Create(4);
        Vector512<int> a4 = Vector512.Create(5), a5 = Vector512.Create(6), a6 = Vector512.Create(7), a7 = Vector512.Create(8);
        Vector512<int> a8 = Vector512.Create(9), a9 = Vector512.Create(10), a10 = Vector512.Create(11), a11 = Vector512.Create(12);
        for (long i = 0; i < iterations; i++)
        {
            a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a0.AsByte(), c), one);
            a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a1.AsByte(), c), one);
            a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a2.AsByte(), c), one);
            a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a3.AsByte(), c), one);
            a4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a4.AsByte(), c), one);
            a5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a5.AsByte(), c), one);
            a6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a6.AsByte(), c), one);
            a7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a7.AsByte(), c), one);
            a8 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a8.AsByte(), c), one);
            a9 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a9.AsByte(), c), one);
            a10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a10.AsByte(), c), one);
            a11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a11.AsByte(), c), one);
        }
        Sink(Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11));
        return iterations * Chains * 64;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Int8Avx2(long iterations)
    {
        Vector256<sbyte> c = Vector256.Create((sbyte)3);
        Vector256<short> one = Vector256<short>.One;
        Vector256<int> a0 = Vector256.Create(1), a1 = Vector256.Create(2), a2 = Vector256.Create(3), a3 = Vector256.Create(4);
        Vector256<int> a4 = Vector256.Create(5), a5 = Vector256.Create(6), a6 = Vector256.Create(7), a7 = Vector256.Create(8);
        Vector256<int> a8 = Vector256.Create(9), a9 = Vector256.Create(10), a10 = Vector256.Create(11), a11 = Vector256.Create(12);
        for (long i = 0; i < iterations; i++)
        {
            a0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0.AsByte(), c), one);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1.AsByte(), c), one);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2.AsByte(), c), one);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a3.AsByte(), c), one);
            a4 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a4.AsByte(), c), one);
            a5 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a5.AsByte(), c), one);
            a6 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a6.AsByte(), c), one);
            a7 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a7.AsByte(), c), one);
            a8 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a8.AsByte(), c), one);
            a9 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a9.AsByte(), c), one);
            a10 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a10.AsByte(), c), one);
            a11 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a11.AsByte(), c), one);
        }
        Sink(Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11));
        return iterations * Chains * 32;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Int8Ssse3(long iterations)
    {
        Vector128<sbyte> c = Vector128.Create((sbyte)3);
        Vector128<short> one = Vector128<short>.One;
        Vector128<int> a0 = Vector128.Create(1), a1 = Vector128.Create(2), a2 = Vector128.Create(3), a3 = Vector128.Create(4);
        Vector128<int> a4 = Vector128.Create(5), a5 = Vector128.Create(6), a6 = Vector128.Create(7), a7 = Vector128.Create(8);
        for (long i = 0; i < iterations; i++)
        {
            a0 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a0.AsByte(), c), one);
            a1 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a1.AsByte(), c), one);
            a2 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a2.AsByte(), c), one);
            a3 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a3.AsByte(), c), one);
            a4 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a4.AsByte(), c), one);
            a5 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a5.AsByte(), c), one);
            a6 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a6.AsByte(), c), one);
            a7 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(a7.AsByte(), c), one);
        }
        Sink(Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7));
        return iterations * 8 * 16;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Int8Dp(long iterations)
    {
        Vector128<sbyte> c = Vector128.Create((sbyte)3);
        Vector128<int> a0 = Vector128.Create(1), a1 = Vector128.Create(2), a2 = Vector128.Create(3), a3 = Vector128.Create(4);
        Vector128<int> a4 = Vector128.Create(5), a5 = Vector128.Create(6), a6 = Vector128.Create(7), a7 = Vector128.Create(8);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Dp.DotProduct(a0, a0.AsSByte(), c);
            a1 = Dp.DotProduct(a1, a1.AsSByte(), c);
            a2 = Dp.DotProduct(a2, a2.AsSByte(), c);
            a3 = Dp.DotProduct(a3, a3.AsSByte(), c);
            a4 = Dp.DotProduct(a4, a4.AsSByte(), c);
            a5 = Dp.DotProduct(a5, a5.AsSByte(), c);
            a6 = Dp.DotProduct(a6, a6.AsSByte(), c);
            a7 = Dp.DotProduct(a7, a7.AsSByte(), c);
        }
        Sink(Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7));
        return iterations * 8 * 16;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Int8Scalar(long iterations)
    {
        int a0 = 1, a1 = 2, a2 = 3, a3 = 4;
        for (long i = 0; i < iterations; i++)
        {
            a0 += (sbyte)a0 * 3;
            a1 += (sbyte)a1 * 3;
            a2 += (sbyte)a2 * 3;
            a3 += (sbyte)a3 * 3;
        }
        Sink(a0 + a1 + a2 + a3);
        return iterations * 4;
    }

    private static long FmaChains(long iterations)
    {
        if (Avx512F.IsSupported) return FmaVector512(iterations);
        if (Fma.IsSupported) return FmaVector256(iterations);
        if (AdvSimd.IsSupported) return FmaAdvSimd(iterations);
        return FmaScalar(iterations);
    }

    // acc_i = acc_i * m + d: m and d keep the values bounded (m < 1), so no chain overflows to infinity or denormals.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long FmaVector512(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999f), d = Vector512.Create(0.001f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = Vector512.Create(2f), a2 = Vector512.Create(3f), a3 = Vector512.Create(4f);
        Vector512<float> a4 = Vector512.Create(5f), a5 = Vector512.Create(6f), a6 = Vector512.Create(7f), a7 = Vector512.Create(8f);
        Vector512<float> a8 = Vector512.Create(9f), a9 = Vector512.Create(10f), a10 = Vector512.Create(11f), a11 = Vector512.Create(12f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, d); a1 = Avx512F.FusedMultiplyAdd(a1, m, d);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, d); a3 = Avx512F.FusedMultiplyAdd(a3, m, d);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, d); a5 = Avx512F.FusedMultiplyAdd(a5, m, d);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, d); a7 = Avx512F.FusedMultiplyAdd(a7, m, d);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, d); a9 = Avx512F.FusedMultiplyAdd(a9, m, d);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, d); a11 = Avx512F.FusedMultiplyAdd(a11, m, d);
        }
        Sink(Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11));
        return iterations * Chains * 16;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long FmaVector256(long iterations)
    {
        Vector256<float> m = Vector256.Create(0.999f), d = Vector256.Create(0.001f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = Vector256.Create(2f), a2 = Vector256.Create(3f), a3 = Vector256.Create(4f);
        Vector256<float> a4 = Vector256.Create(5f), a5 = Vector256.Create(6f), a6 = Vector256.Create(7f), a7 = Vector256.Create(8f);
        Vector256<float> a8 = Vector256.Create(9f), a9 = Vector256.Create(10f), a10 = Vector256.Create(11f), a11 = Vector256.Create(12f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, d); a1 = Fma.MultiplyAdd(a1, m, d);
            a2 = Fma.MultiplyAdd(a2, m, d); a3 = Fma.MultiplyAdd(a3, m, d);
            a4 = Fma.MultiplyAdd(a4, m, d); a5 = Fma.MultiplyAdd(a5, m, d);
            a6 = Fma.MultiplyAdd(a6, m, d); a7 = Fma.MultiplyAdd(a7, m, d);
            a8 = Fma.MultiplyAdd(a8, m, d); a9 = Fma.MultiplyAdd(a9, m, d);
            a10 = Fma.MultiplyAdd(a10, m, d); a11 = Fma.MultiplyAdd(a11, m, d);
        }
        Sink(Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11));
        return iterations * Chains * 8;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long FmaAdvSimd(long iterations)
    {
        Vector128<float> m = Vector128.Create(0.999f), d = Vector128.Create(0.001f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = Vector128.Create(2f), a2 = Vector128.Create(3f), a3 = Vector128.Create(4f);
        Vector128<float> a4 = Vector128.Create(5f), a5 = Vector128.Create(6f), a6 = Vector128.Create(7f), a7 = Vector128.Create(8f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = AdvSimd.FusedMultiplyAdd(d, a0, m); a1 = AdvSimd.FusedMultiplyAdd(d, a1, m);
            a2 = AdvSimd.FusedMultiplyAdd(d, a2, m); a3 = AdvSimd.FusedMultiplyAdd(d, a3, m);
            a4 = AdvSimd.FusedMultiplyAdd(d, a4, m); a5 = AdvSimd.FusedMultiplyAdd(d, a5, m);
            a6 = AdvSimd.FusedMultiplyAdd(d, a6, m); a7 = AdvSimd.FusedMultiplyAdd(d, a7, m);
        }
        Sink(Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7));
        return iterations * 8 * 4;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long FmaScalar(long iterations)
    {
        float a0 = 1, a1 = 2, a2 = 3, a3 = 4;
        for (long i = 0; i < iterations; i++)
        {
            a0 = MathF.FusedMultiplyAdd(a0, 0.999f, 0.001f);
            a1 = MathF.FusedMultiplyAdd(a1, 0.999f, 0.001f);
            a2 = MathF.FusedMultiplyAdd(a2, 0.999f, 0.001f);
            a3 = MathF.FusedMultiplyAdd(a3, 0.999f, 0.001f);
        }
        Sink(a0 + a1 + a2 + a3);
        return iterations * 4;
    }

    private static volatile float s_sink;

    private static void Sink(float value) => s_sink = value;
}
