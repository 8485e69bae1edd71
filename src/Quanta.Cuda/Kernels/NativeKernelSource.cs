using ILGPU.Runtime.Cuda;
using Quanta.Cuda.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// The CUDA C++ sources under Kernels/Native, embedded in this assembly, and their compilation by NVRTC for one device
/// (the kernels ILGPU cannot express: tensor-core instructions, the FP8 conversion instructions).
/// </summary>
internal static class NativeKernelSource
{
    /// <summary>The text of the embedded source <paramref name="name"/> (e.g. "flash_attention.cu").</summary>
    public static string Text(string name)
    {
        using Stream s = typeof(NativeKernelSource).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from {typeof(NativeKernelSource).Assembly.GetName().Name}");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    /// <summary>The compute capability of <paramref name="accelerator"/>'s device, from the driver.</summary>
    public static (int Major, int Minor) ComputeCapability(CudaAccelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        accelerator.Bind();
        CudaDriver.Check(CudaDriverNative.cuDeviceGet(out int dev, accelerator.DeviceId), "cuDeviceGet");
        CudaDriver.Check(CudaDriverNative.cuDeviceGetAttribute(out int major, (int)CuDeviceAttribute.ComputeCapabilityMajor, dev), "cuDeviceGetAttribute");
        CudaDriver.Check(CudaDriverNative.cuDeviceGetAttribute(out int minor, (int)CuDeviceAttribute.ComputeCapabilityMinor, dev), "cuDeviceGetAttribute");
        return (major, minor);
    }

    /// <summary>
    /// Compiles source <paramref name="name"/> for <paramref name="accelerator"/>'s device and loads it into its context:
    /// <see cref="CudaUnavailableException"/> without NVRTC, <see cref="NvrtcException"/> when it does not compile.
    /// </summary>
    public static CudaModule Compile(CudaAccelerator accelerator, string name)
    {
        (int major, int minor) = ComputeCapability(accelerator);
        byte[] cubin = Nvrtc.CompileCubin(Text(name), name, major, minor);
        accelerator.Bind();
        return CudaModule.Load(cubin);
    }

    /// <summary>
    /// <see cref="Compile"/>s source <paramref name="name"/> after checking the device has at least compute capability
    /// <paramref name="minMajor"/>.<paramref name="minMinor"/> (<see cref="NotSupportedException"/> naming
    /// <paramref name="needs"/> otherwise), and wraps the module with <paramref name="wrap"/>; the module is unloaded if
    /// that throws.
    /// </summary>
    public static T Load<T>(CudaAccelerator accelerator, string name, int minMajor, int minMinor, string needs, Func<CudaModule, T> wrap)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(wrap);
        (int major, int minor) = ComputeCapability(accelerator);
        if (major * 10 + minor < minMajor * 10 + minMinor)
            throw new NotSupportedException($"compute capability {major}.{minor}: {needs} {minMajor}.{minMinor} or later");
        CudaModule module = Compile(accelerator, name);
        try
        {
            return wrap(module);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }
}
