using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Threading;

namespace Quanta.Benchmarks;

/// <summary>
/// Fast, BenchmarkDotNet-free matrix x vector check for kernel work on a noisy shared machine:
/// `dotnet run -c Release --project bench/Quanta.Benchmarks -- quick [Format ...]` (all formats when none named).
/// For each format, on 1 thread: DRAM GB/s (4096 x 4096 weights rotating over at least 512 MiB of copies, as
/// <see cref="MatVecBenchmarks"/>) and cache-resident GB/s (a 128 x 4096 slice read again and again: the kernel's
/// compute ceiling). Prints best and median of several timed runs, next to a plain memory-read anchor.
/// </summary>
public static unsafe class QuickMatVec
{
    private const int Rows = MatVecBenchmarks.Rows, Cols = MatVecBenchmarks.Cols, HotRows = 128;
    private const long MinTotalBytes = 512L << 20;

    public static void Run(string[] names)
    {
        var formats = names.Length == 0
            ? KernelRegistry.Formats.ToList()
            : names.Select(n => Enum.Parse<WeightFormat>(n, ignoreCase: true)).ToList();
        using var pool = new WorkerPool(1);
        var (anchorBest, anchorMed) = Anchor();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"memory read anchor",-10} best {anchorBest,6:F1} GB/s  median {anchorMed,6:F1}"));
        Console.WriteLine($"{"format",-10} {"DRAM best",10} {"DRAM med",9} {"hot best",9} {"hot med",8}   (GB/s of weights, 1 thread)");
        foreach (var f in formats)
        {
            var r = Measure(f, pool);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{f,-10} {r.DramBest,10:F1} {r.DramMed,9:F1} {r.HotBest,9:F1} {r.HotMed,8:F1}"));
        }
        var (a2, m2) = Anchor();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"memory read anchor",-10} best {a2,6:F1} GB/s  median {m2,6:F1}"));
    }

    private static (double Best, double Med) Anchor()
    {
        long chunk = (long)Rows * Cols * 4;
        const int copies = 8;
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)(chunk * copies), 64);
        try
        {
            for (long i = 0; i < chunk * copies; i += 64) buf[i] = 1;
            var times = new List<double>();
            float sink = 0;
            for (int it = 0; it < 40; it++)
            {
                float* p = (float*)(buf + (it % copies) * chunk);
                long t0 = Stopwatch.GetTimestamp();
                sink += Sum(p, chunk / 4);
                times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            if (sink == 1.2345f) Console.WriteLine();
            return Stats(times, chunk);
        }
        finally { NativeMemory.AlignedFree(buf); }
    }

    private static float Sum(float* f, long n)
    {
        var a0 = System.Runtime.Intrinsics.Vector256<float>.Zero;
        var a1 = a0; var a2 = a0; var a3 = a0;
        for (long i = 0; i + 32 <= n; i += 32)
        {
            a0 += System.Runtime.Intrinsics.Vector256.Load(f + i);
            a1 += System.Runtime.Intrinsics.Vector256.Load(f + i + 8);
            a2 += System.Runtime.Intrinsics.Vector256.Load(f + i + 16);
            a3 += System.Runtime.Intrinsics.Vector256.Load(f + i + 24);
        }
        return System.Runtime.Intrinsics.Vector256.Sum(a0 + a1 + a2 + a3);
    }

    private static (double Best, double Med) Stats(List<double> seconds, long bytes)
    {
        seconds.Sort();
        return (bytes / seconds[0] / 1e9, bytes / seconds[seconds.Count / 2] / 1e9);
    }

    private static (double DramBest, double DramMed, double HotBest, double HotMed) Measure(WeightFormat format, WorkerPool pool)
    {
        var kernel = KernelRegistry.VecDot(format);
        long rb = kernel.WeightRowBytes(Cols);
        long matrix = rb * Rows;
        int copies = (int)Math.Max(2, (MinTotalBytes + matrix - 1) / matrix);
        byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)(matrix * copies), 64);
        float* x = (float*)NativeMemory.AlignedAlloc(Cols * sizeof(float), 64);
        float* y = (float*)NativeMemory.AlignedAlloc(Rows * sizeof(float), 64);
        byte* scratch = (byte*)NativeMemory.AlignedAlloc((nuint)MatMul.ScratchBytes(kernel, 1, Cols), 64);
        try
        {
            var codec = CodecRegistry.For(format);
            var rng = new Random(42);
            var row = new float[Cols];
            // quantize 64 distinct rows, then tile them: realistic bytes, fast setup
            for (int r = 0; r < 64; r++)
            {
                for (int c = 0; c < Cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
                codec.Quantize(row, new Span<byte>(w + r * rb, (int)rb));
            }
            for (int r = 64; r < Rows; r += 64) Buffer.MemoryCopy(w, w + r * rb, 64 * rb, 64 * rb);
            for (int k = 1; k < copies; k++) Buffer.MemoryCopy(w, w + k * matrix, matrix, matrix);
            for (int c = 0; c < Cols; c++) x[c] = (float)(rng.NextDouble() * 2 - 1);

            var dram = new List<double>();
            int next = 0;
            for (int it = 0; it < 3 * copies + 30; it++)
            {
                byte* m = w + next * matrix;
                next = (next + 1) % copies;
                long t0 = Stopwatch.GetTimestamp();
                MatMul.Vector(kernel, m, Rows, Cols, x, y, scratch, pool);
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                if (it >= copies) dram.Add(s);
            }
            var hot = new List<double>();
            for (int it = 0; it < 400; it++)
            {
                long t0 = Stopwatch.GetTimestamp();
                MatMul.Vector(kernel, w, HotRows, Cols, x, y, scratch, pool);
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                if (it >= 50) hot.Add(s);
            }
            var (db, dm) = Stats(dram, matrix);
            var (hb, hm) = Stats(hot, rb * HotRows);
            return (db, dm, hb, hm);
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
