using Quanta.Cuda.Interop;

namespace Quanta.Cuda.Diagnostics;

/// <summary>
/// The HBM bandwidth bound: a device-to-device cuMemcpyDtoDAsync of <c>bytes</c> repeated, timed with CUDA events; each
/// copy reads and writes every byte, so bandwidth = 2·bytes·repeats / time. Runs on its own thread in the device's
/// primary context (so it leaves the caller's current context alone) and frees its buffers.
/// </summary>
public static class HbmBandwidth
{
    /// <summary>Measured bytes per second.</summary>
    public static double Measure(int ordinal, long bytes, int repeats)
    {
        double result = 0;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var dev = CudaDevice.Open(ordinal);
                using var a = new DeviceMemory(bytes);
                using var b = new DeviceMemory(bytes);
                using var s = new CudaStream();
                using var e0 = new CudaEvent();
                using var e1 = new CudaEvent();
                a.Fill(1, s.Pointer);
                b.CopyFromDevice(a, bytes, s.Pointer);   // warm-up
                e0.Record(s.Pointer);
                for (int i = 0; i < repeats; i++)
                    if (i % 2 == 0) b.CopyFromDevice(a, bytes, s.Pointer);
                    else a.CopyFromDevice(b, bytes, s.Pointer);
                e1.Record(s.Pointer);
                e1.Synchronize();
                double seconds = e1.ElapsedSince(e0) / 1000.0;
                result = 2.0 * bytes * repeats / seconds;
            }
#pragma warning disable CA1031 // rethrown on the caller's thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                error = e;
            }
        });
        t.Start();
        t.Join();
        if (error is CudaUnavailableException or CudaException) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        if (error != null) throw new InvalidOperationException($"HBM bandwidth measurement failed: {error.Message}", error);
        return result;
    }
}
