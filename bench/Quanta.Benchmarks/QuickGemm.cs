using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Threading;

namespace Quanta.Benchmarks;

/// <summary>
/// BenchmarkDotNet-free check of <see cref="MatMul.Compute"/> against one <see cref="IVecDotKernel.Dot"/> per
/// (row, token), on 1 thread, for a rows x cols weight matrix that stays in cache (compute ceiling, per CPU-second):
/// `dotnet run -c Release --project bench/Quanta.Benchmarks -- gemm [rows cols] [Format ...]` (default 2048 2048,
/// Q4_0 Q8_0 Q4_K F16). Prints the minimum of 15 timed batches (after a warm-up batch each) (microseconds per call and per token) for m = 1,
/// 8 and 64. Minimums damp a shared machine's noise but do not remove it.
/// </summary>
public static unsafe class QuickGemm
{
    public static void Run(string[] args)
    {
        (int rows, int cols, var formats) = ShapeArgs.Parse(args, 2048, 2048, WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.Q4_K, WeightFormat.F16);
        using var pool = new WorkerPool(1);
        Console.WriteLine($"{rows} x {cols}, 1 thread, min of 15 batches (us per call; us per token)");
        foreach (var f in formats)
            foreach (int m in new[] { 1, 8, 64 })
            {
                var (dot, gemm) = Measure(f, rows, cols, m, pool);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{f,-6} m={m,-3} Dot loop {dot,9:F1} ({dot / m,8:F1})   MatMul {gemm,9:F1} ({gemm / m,8:F1})   Dot/MatMul {dot / gemm,5:F2}x"));
            }
    }

    private static (double Dot, double Gemm) Measure(WeightFormat format, int rows, int cols, int m, WorkerPool pool)
    {
        var kernel = KernelRegistry.VecDot(format);
        long rb = kernel.WeightRowBytes(cols);
        int ab = kernel.ActivationRowBytes(cols);
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
            int reps = Math.Max(1, (int)(40_000_000L / ((long)rows * cols * m / 64 + 1)));
            reps = Math.Clamp(reps, 1, 200);
            double dotBest = double.MaxValue, gemmBest = double.MaxValue;
            for (int batch = 0; batch < 15; batch++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int it = 0; it < reps; it++)
                {
                    // the old path: quantize the activations, then one Dot per (row, token)
                    for (int t = 0; t < m; t++)
                        kernel.QuantizeActivation(new ReadOnlySpan<float>(x + (long)t * cols, cols), new Span<byte>(scratch + (long)t * ab, ab));
                    for (int r = 0; r < rows; r++)
                    {
                        var wr = new ReadOnlySpan<byte>(w + r * rb, (int)rb);
                        for (int t = 0; t < m; t++)
                            y[(long)t * rows + r] = kernel.Dot(wr, new ReadOnlySpan<byte>(scratch + (long)t * ab, ab), cols);
                    }
                }
                dotBest = Math.Min(dotBest, Stopwatch.GetElapsedTime(t0).TotalMicroseconds / reps);
                t0 = Stopwatch.GetTimestamp();
                for (int it = 0; it < reps; it++)
                    MatMul.Compute(kernel, w, rows, cols, x, cols, m, y, rows, scratch, pool);
                gemmBest = Math.Min(gemmBest, Stopwatch.GetElapsedTime(t0).TotalMicroseconds / reps);
            }
            return (dotBest, gemmBest);
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
