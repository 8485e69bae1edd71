using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Diagnostics;

/// <summary>
/// Measures the machine's memory read bandwidth the way the benchmarks judge kernels against it:
/// every thread streams its share of a buffer much larger than the last-level cache with vector loads,
/// repeatedly, for a fixed time. The result is the anchor "bytes per second the memory system delivers
/// right now" (on shared machines it changes from minute to minute, so measure it in the same run).
/// </summary>
public static unsafe class MemoryBandwidth
{
    /// <summary>Result of one measurement.</summary>
    /// <param name="BytesPerSecond">Bytes read per second over all threads.</param>
    /// <param name="Threads">Threads that read.</param>
    /// <param name="BufferBytes">Size of the buffer streamed.</param>
    /// <param name="Seconds">Wall time measured.</param>
    public readonly record struct Reading(double BytesPerSecond, int Threads, long BufferBytes, double Seconds)
    {
        /// <summary>Bandwidth in GB/s (10^9 bytes).</summary>
        public double GBps => BytesPerSecond / 1e9;
    }

    /// <summary>
    /// Streams a <paramref name="bufferBytes"/> buffer (default 1 GiB) with <paramref name="threads"/> threads
    /// for about <paramref name="seconds"/> seconds and returns the read bandwidth.
    /// </summary>
    public static Reading MeasureRead(int threads, double seconds = 2.0, long bufferBytes = 1L << 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferBytes, 1L << 20);
        bufferBytes &= ~(long)(4096 - 1);
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)bufferBytes, 4096);
        try
        {
            // touch every page so the reads hit real memory, not the zero page
            for (long i = 0; i < bufferBytes; i += 4096) buf[i] = (byte)i;
            long chunk = bufferBytes / threads & ~(long)63;
            long[] bytesRead = new long[threads];
            var start = new Barrier(threads);
            var sw = new Stopwatch();
            double limit = seconds;
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() =>
                {
                    byte* p = buf + id * chunk;
                    start.SignalAndWait();
                    if (id == 0) sw.Start();
                    long total = 0;
                    float sink = 0;
                    do
                    {
                        sink += ReadAll(p, chunk);
                        total += chunk;
                    } while (sw.Elapsed.TotalSeconds < limit);
                    bytesRead[id] = total + (sink == 12345.678f ? 1 : 0);
                }) { IsBackground = true };
                workers[t].Start();
            }
            foreach (var w in workers) w.Join();
            double elapsed = sw.Elapsed.TotalSeconds;
            return new Reading(bytesRead.Sum() / elapsed, threads, bufferBytes, elapsed);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    private static float ReadAll(byte* p, long bytes)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = 0; i + 256 <= bytes; i += 256)
            {
                a0 += Vector512.Load((float*)(p + i));
                a1 += Vector512.Load((float*)(p + i + 64));
                a2 += Vector512.Load((float*)(p + i + 128));
                a3 += Vector512.Load((float*)(p + i + 192));
            }
            return Vector512.Sum(a0 + a1 + a2 + a3);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = 0; i + 128 <= bytes; i += 128)
            {
                a0 += Vector256.Load((float*)(p + i));
                a1 += Vector256.Load((float*)(p + i + 32));
                a2 += Vector256.Load((float*)(p + i + 64));
                a3 += Vector256.Load((float*)(p + i + 96));
            }
            return Vector256.Sum(a0 + a1 + a2 + a3);
        }
        long s = 0;
        for (long i = 0; i + 8 <= bytes; i += 8) s += *(long*)(p + i);
        return s;
    }
}
