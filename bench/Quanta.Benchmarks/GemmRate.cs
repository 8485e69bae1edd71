using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Threading;

namespace Quanta.Benchmarks;

/// <summary>
/// Rate of <see cref="MatMul.Compute"/> alone (activation conversion included) in GOP/s (2 ops per weight per token) on
/// 1 thread (CPU seconds of the calling thread on Linux), for the batch sizes of batched decode and prefill:
/// `dotnet run -c Release --project bench/Quanta.Benchmarks -- gemmrate [rows cols] [Format ...]` (default 3072 x 768,
/// the 160M shape's FFN up projection; Q4_0 Q8_0 Q4_K Q6_K F16; m = 16, 64, 512). Prints the best of 7 timed batches
/// of about 0.1 s each, after 0.5 s of warm-up calls; on a shared machine the figures are rough.
/// </summary>
public static unsafe class GemmRate
{
    public static void Run(string[] args)
    {
        (int rows, int cols, var formats) = ShapeArgs.Parse(args, 3072, 768,
            WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.Q4_K, WeightFormat.Q6_K, WeightFormat.F16);
        using var pool = new WorkerPool(1);
        Console.WriteLine($"{rows} x {cols}, 1 thread, GOP/s (2 ops per weight per token), best of 7");
        foreach (var f in formats)
        {
            var line = new System.Text.StringBuilder($"{f,-6}");
            foreach (int m in new[] { 16, 64, 512 })
                line.Append(CultureInfo.InvariantCulture, $"  m={m,-3} {Measure(f, rows, cols, m, pool),7:F1}");
            Console.WriteLine(line);
        }
    }

    /// <summary>CPU seconds of the calling thread (Linux: CLOCK_THREAD_CPUTIME_ID, so time the OS gives other processes on
    /// a shared machine is not counted); wall-clock seconds elsewhere.</summary>
    internal static double ThreadSeconds()
    {
        if (OperatingSystem.IsLinux() && NativeMethods.clock_gettime(3, out var ts) == 0) return ts.Seconds + ts.Nanoseconds * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    private static class NativeMethods
    {
        [StructLayout(LayoutKind.Sequential)]
        public struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int clock_gettime(int clock, out TimeSpec ts);
    }

    private static double Measure(WeightFormat format, int rows, int cols, int m, WorkerPool pool)
    {
        var kernel = KernelRegistry.VecDot(format);
        long rb = kernel.WeightRowBytes(cols);
        byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(rb * rows), 64);
        float* x = (float*)NativeMemory.AlignedAlloc((nuint)m * (nuint)cols * sizeof(float), 64);
        float* y = (float*)NativeMemory.AlignedAlloc((nuint)m * (nuint)rows * sizeof(float), 64);
        long sb = MatMul.ScratchBytes(kernel, m, cols);
        byte* scratch = (byte*)NativeMemory.AlignedAlloc((nuint)sb, 64);
        try
        {
            var codec = CodecRegistry.For(format);
            var rng = new Random(42);
            var row = new float[cols];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
                codec.Quantize(row, new Span<byte>(w + r * rb, (int)rb));
            }
            for (long k = 0; k < (long)m * cols; k++) x[k] = (float)(rng.NextDouble() * 2 - 1);
            double ops = 2.0 * rows * cols * m;
            // warm-up: 0.5 s of calls, so the tiered JIT has promoted the kernels before timing
            long t0 = Stopwatch.GetTimestamp();
            int calls = 0;
            while (Stopwatch.GetElapsedTime(t0).TotalSeconds < 0.5 || calls < 50)
            {
                MatMul.Compute(kernel, w, rows, cols, x, cols, m, y, rows, scratch, pool);
                calls++;
            }
            double c0 = ThreadSeconds();
            MatMul.Compute(kernel, w, rows, cols, x, cols, m, y, rows, scratch, pool);
            double once = Math.Max(ThreadSeconds() - c0, 1e-6);
            int reps = Math.Clamp((int)(0.1 / once), 1, 10_000);
            double best = double.MaxValue;
            for (int batch = 0; batch < 7; batch++)
            {
                c0 = ThreadSeconds();
                for (int it = 0; it < reps; it++)
                    MatMul.Compute(kernel, w, rows, cols, x, cols, m, y, rows, scratch, pool);
                best = Math.Min(best, (ThreadSeconds() - c0) / reps);
            }
            return ops / best / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(w);
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(y);
            NativeMemory.AlignedFree(scratch);
        }
    }
}
