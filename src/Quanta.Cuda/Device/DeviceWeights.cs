using ILGPU;
using ILGPU.Runtime;
using Quanta.Core.Formats.Float;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Device;

/// <summary>
/// Host-side conversion of F32 weight rows into device matrices: BF16 (round to nearest even) or FP8 E4M3 with a
/// per-tensor scale amax/448 or per-row scales rowAmax/448 (all-zero rows get scale 1).
/// </summary>
public static class DeviceWeights
{
    /// <summary>Encodes w [rows, cols] into a new <see cref="DeviceMatrix"/> on <paramref name="backend"/>.</summary>
    public static DeviceMatrix Upload(GpuBackend backend, ReadOnlySpan<float> w, int rows, int cols, DeviceFormat format, bool perChannel)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (w.Length < (long)rows * cols) throw new ArgumentException($"w holds {w.Length} floats, [{rows}, {cols}] needs {(long)rows * cols}", nameof(w));
        var m = new DeviceMatrix(backend.Accelerator, format, rows, cols, perChannel && format == DeviceFormat.Fp8E4M3);
        try
        {
            byte[] bytes = Encode(w, rows, cols, format, perChannel, out float scale, out float[]? channel);
            m.Data.View.CopyFromCPU(bytes);
            m.Scale.View.CopyFromCPU([scale]);
            if (channel != null) m.ChannelScales!.View.CopyFromCPU(channel);
            backend.Synchronize();   // uploads use the default stream; kernels and products use the backend's stream
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    /// <summary>The codes the device holds for w, with their scales.</summary>
    public static byte[] Encode(ReadOnlySpan<float> w, int rows, int cols, DeviceFormat format, bool perChannel, out float scale, out float[]? channelScales)
    {
        long n = (long)rows * cols;
        if (n > Array.MaxLength / 2) throw new ArgumentOutOfRangeException(nameof(rows), "matrix too large for one host staging array");
        channelScales = null;
        scale = 1f;
        if (format == DeviceFormat.BF16)
        {
            var bytes = new byte[n * 2];
            for (long i = 0; i < n; i++)
            {
                ushort b = BF16Conversion.FromSingle(w[(int)i]);
                bytes[2 * i] = (byte)b;
                bytes[2 * i + 1] = (byte)(b >> 8);
            }
            return bytes;
        }
        var codes = new byte[n];
        if (perChannel)
        {
            channelScales = new float[rows];
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> row = w.Slice(r * cols, cols);
                float amax = 0f;
                foreach (float v in row) amax = MathF.Max(amax, MathF.Abs(v));
                float s = amax > 0f && float.IsFinite(amax) ? amax / 448f : 1f;
                channelScales[r] = s;
                Fp8E4M3.EncodeRow(row, s, codes.AsSpan(r * cols, cols));
            }
            return codes;
        }
        float max = 0f;
        foreach (float v in w[..(int)n]) max = MathF.Max(max, MathF.Abs(v));
        scale = max > 0f && float.IsFinite(max) ? max / 448f : 1f;
        Fp8E4M3.EncodeRow(w[..(int)n], scale, codes);
        return codes;
    }

    /// <summary>F32 values of what <see cref="Upload"/> stores for w (per-tensor scaling), for oracles.</summary>
    public static float[] DecodeHost(ReadOnlySpan<float> w, int rows, int cols, DeviceFormat format, bool perChannel = false)
    {
        byte[] codes = Encode(w, rows, cols, format, perChannel, out float scale, out float[]? ch);
        var y = new float[(long)rows * cols];
        for (long i = 0; i < y.Length; i++)
        {
            float v = format == DeviceFormat.BF16
                ? BF16Conversion.ToSingle((ushort)(codes[2 * i] | (codes[2 * i + 1] << 8)))
                : Fp8E4M3.Decode(codes[i]) * scale;
            y[i] = ch is null ? v : v * ch[i / cols];
        }
        return y;
    }
}
