using ILGPU;
using ILGPU.Runtime;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Device;

/// <summary>
/// A weight matrix in device memory: [Rows, Cols] row-major (Rows = outputs), elements in <see cref="Format"/>
/// (BF16: 2 bytes little-endian; FP8 E4M3: 1 byte), value = decode(code)·<see cref="Scale"/>[0] (per-tensor; 1 for BF16)
/// ·<see cref="ChannelScales"/>[row] when per-channel scales are present. Owns its buffers.
/// </summary>
public sealed class DeviceMatrix : IDisposable
{
    internal DeviceMatrix(Accelerator accelerator, DeviceFormat format, int rows, int cols, bool perChannel)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        Data = accelerator.Allocate1D<byte>((long)rows * cols * (format == DeviceFormat.BF16 ? 2 : 1));
        Scale = accelerator.Allocate1D<float>(1);
        ChannelScales = perChannel ? accelerator.Allocate1D<float>(rows) : null;
    }

    /// <summary>Element format.</summary>
    public DeviceFormat Format { get; }

    /// <summary>Output dimension.</summary>
    public int Rows { get; }

    /// <summary>Input dimension.</summary>
    public int Cols { get; }

    /// <summary>Element codes [Rows·Cols·element size] bytes.</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Data { get; }

    /// <summary>Per-tensor scale [1].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Scale { get; }

    /// <summary>Per-row scales [Rows], or null.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense>? ChannelScales { get; }

    /// <summary>Device bytes held.</summary>
    public long Bytes => Data.LengthInBytes + 4 + (ChannelScales?.LengthInBytes ?? 0);

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        Data.Dispose();
        Scale.Dispose();
        ChannelScales?.Dispose();
    }
}
