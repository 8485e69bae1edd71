using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Quanta.Cuda.Device;
using Quanta.Cuda.Energy;
using Quanta.Cuda.Interop;

namespace Quanta.Cuda.Tests;

/// <summary>
/// Native interop without a GPU: missing libraries give <see cref="CudaUnavailableException"/> naming what was tried;
/// enum values and struct layouts equal NVIDIA's headers (cuda.h, library_types.h, cublas_api.h, cublasLt.h, nvml.h;
/// the literals below are those headers' values); failed calls name the call and the header's status name.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class InteropTests
{
    [Fact]
    public void Missing_library_error_names_the_library_and_every_candidate()
    {
        string[] names = ["libquanta-does-not-exist.so.7", "/nonexistent/libcuda.so.1"];
        var e = Assert.Throws<CudaUnavailableException>(() => NativeLibraries.Load("CUDA driver (libcuda)", names));
        Assert.Contains("CUDA driver (libcuda) is not available", e.Message);
        foreach (string n in names) Assert.Contains(n, e.Message);
        Assert.Equal(names, e.Tried);
    }

    [Fact]
    public void Without_the_NVIDIA_driver_every_entry_point_fails_clearly_at_the_first_call()
    {
        if (NativeLibrary.TryLoad("libcuda.so.1", out nint h))
        {
            NativeLibrary.Free(h);
            Assert.True(NativeLibraries.IsAvailable(NvidiaLibrary.Driver));   // a machine with a driver: the loader agrees
            return;
        }
        var e = Assert.Throws<CudaUnavailableException>(CudaDriver.Initialize);
        Assert.Contains("libcuda.so.1", e.Message);
        Assert.Throws<CudaUnavailableException>(() => CudaDevice.Open());
        Assert.Throws<CudaUnavailableException>(() => GpuBackend.CreateCuda());
        Assert.Throws<CudaUnavailableException>(() => new DeviceMemory(1024));
        if (!NativeLibrary.TryLoad("libnvidia-ml.so.1", out _))
        {
            var n = Assert.Throws<CudaUnavailableException>(() => new NvmlPowerSource(0));
            Assert.Contains("libnvidia-ml.so.1", n.Message);
        }
        if (!NativeLibraries.IsAvailable(NvidiaLibrary.CublasLt))
        {
            var c = Assert.Throws<CudaUnavailableException>(() => CublasLt.Version());
            Assert.Contains("libcublasLt.so.12", c.Message);
        }
        if (!NativeLibraries.IsAvailable(NvidiaLibrary.Nvrtc))
        {
            var c = Assert.Throws<CudaUnavailableException>(() => Nvrtc.CompileCubin("extern \"C\" __global__ void k() {}", "k.cu", 9, 0));
            Assert.Contains("NVRTC (libnvrtc) is not available", c.Message);
            Assert.Contains("libnvrtc.so.13", c.Message);
        }
    }

    [Fact]
    public void Nvrtc_is_searched_like_the_other_toolkit_libraries()
    {
        IReadOnlyList<string> list = NativeLibraries.SearchList(NvidiaLibrary.Nvrtc);
        Assert.Equal("libnvrtc.so.13", list[0]);
        Assert.Contains("libnvrtc.so.12", list);
        Assert.Contains("/usr/local/cuda/lib64/libnvrtc.so.13", list);
        Assert.Equal("QUANTA_NVRTC_PATH", NativeLibraries.OverrideVariable(NvidiaLibrary.Nvrtc));
        AssertOverrideComesFirst(NvidiaLibrary.Nvrtc, "/opt/wheel/nvidia/cu13/lib/libnvrtc.so.13");
    }

    /// <summary>With the library's override variable set to <paramref name="path"/>, the search list starts with it.</summary>
    private static void AssertOverrideComesFirst(NvidiaLibrary library, string path)
    {
        string variable = NativeLibraries.OverrideVariable(library);
        string? old = Environment.GetEnvironmentVariable(variable);
        try
        {
            Environment.SetEnvironmentVariable(variable, path);
            Assert.Equal(path, NativeLibraries.SearchList(library)[0]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, old);
        }
    }

    [Fact]
    public void Search_list_puts_the_override_first_and_tries_cuda_12_and_13()
    {
        IReadOnlyList<string> list = NativeLibraries.SearchList(NvidiaLibrary.CublasLt);
        Assert.Contains("libcublasLt.so.13", list);
        Assert.Contains("libcublasLt.so.12", list);
        Assert.Contains("/usr/local/cuda/lib64/libcublasLt.so.12", list);
        Assert.Equal("libcuda.so.1", NativeLibraries.Candidates(NvidiaLibrary.Driver)[0]);
        Assert.Equal("libnvidia-ml.so.1", NativeLibraries.Candidates(NvidiaLibrary.Nvml)[0]);
        Assert.Equal("QUANTA_NVML_PATH", NativeLibraries.OverrideVariable(NvidiaLibrary.Nvml));
        AssertOverrideComesFirst(NvidiaLibrary.Nvml, "/opt/x/libnvidia-ml.so.1");
    }

    [Fact]
    public void Enum_values_equal_the_headers()
    {
        // cuda.h (CUresult, CUdevice_attribute, CUstreamCaptureMode)
        Assert.Equal(2, (int)CuResult.OutOfMemory);
        Assert.Equal(34, (int)CuResult.StubLibrary);
        Assert.Equal(100, (int)CuResult.NoDevice);
        Assert.Equal(201, (int)CuResult.InvalidContext);
        Assert.Equal(700, (int)CuResult.IllegalAddress);
        Assert.Equal(719, (int)CuResult.LaunchFailed);
        Assert.Equal(900, (int)CuResult.StreamCaptureUnsupported);
        Assert.Equal(16, (int)CuDeviceAttribute.MultiprocessorCount);
        Assert.Equal(36, (int)CuDeviceAttribute.MemoryClockRate);
        Assert.Equal(37, (int)CuDeviceAttribute.GlobalMemoryBusWidth);
        Assert.Equal(75, (int)CuDeviceAttribute.ComputeCapabilityMajor);
        Assert.Equal(76, (int)CuDeviceAttribute.ComputeCapabilityMinor);
        Assert.Equal(1, (int)CuStreamCaptureMode.ThreadLocal);
        // library_types.h (cudaDataType_t)
        Assert.Equal(0, (int)CudaDataType.R32F);
        Assert.Equal(2, (int)CudaDataType.R16F);
        Assert.Equal(14, (int)CudaDataType.R16BF);
        Assert.Equal(28, (int)CudaDataType.R8F_E4M3);
        Assert.Equal(29, (int)CudaDataType.R8F_E5M2);
        // cublas_api.h
        Assert.Equal(68, (int)CublasComputeType.Compute32F);
        Assert.Equal(77, (int)CublasComputeType.Compute32FFastTf32);
        Assert.Equal(1, (int)CublasOperation.T);
        Assert.Equal(7, (int)CublasStatus.InvalidValue);
        Assert.Equal(15, (int)CublasStatus.NotSupported);
        // cublasLt.h
        Assert.Equal(0, (int)CublasLtMatmulDescAttribute.ComputeType);
        Assert.Equal(1, (int)CublasLtMatmulDescAttribute.ScaleType);
        Assert.Equal(3, (int)CublasLtMatmulDescAttribute.TransA);
        Assert.Equal(4, (int)CublasLtMatmulDescAttribute.TransB);
        Assert.Equal(17, (int)CublasLtMatmulDescAttribute.AScalePointer);
        Assert.Equal(18, (int)CublasLtMatmulDescAttribute.BScalePointer);
        Assert.Equal(20, (int)CublasLtMatmulDescAttribute.DScalePointer);
        Assert.Equal(21, (int)CublasLtMatmulDescAttribute.AmaxDPointer);
        Assert.Equal(25, (int)CublasLtMatmulDescAttribute.FastAccum);
        Assert.Equal(4, (int)CublasLtMatrixLayoutAttribute.Ld);
        Assert.Equal(1, (int)CublasLtPreferenceAttribute.MaxWorkspaceBytes);
        // nvml.h
        Assert.Equal(3, (int)NvmlReturn.NotSupported);
        Assert.Equal(12, (int)NvmlReturn.LibraryNotFound);
        Assert.Equal(999, (int)NvmlReturn.Unknown);
    }

    [Fact]
    public void Heuristic_result_has_the_header_layout()
    {
        // cublasLtMatmulAlgo_t is uint64_t data[8]; the heuristic result adds size_t, cublasStatus_t, float, int[4]
        Assert.Equal(64, Unsafe.SizeOf<CublasLtMatmulAlgo>());
        Assert.Equal(96, Marshal.SizeOf<CublasLtHeuristicResult>());
        Assert.Equal(64, (int)Marshal.OffsetOf<CublasLtHeuristicResult>(nameof(CublasLtHeuristicResult.WorkspaceSize)));
        Assert.Equal(72, (int)Marshal.OffsetOf<CublasLtHeuristicResult>(nameof(CublasLtHeuristicResult.State)));
        Assert.Equal(76, (int)Marshal.OffsetOf<CublasLtHeuristicResult>(nameof(CublasLtHeuristicResult.WavesCount)));
        Assert.Equal(80, (int)Marshal.OffsetOf<CublasLtHeuristicResult>(nameof(CublasLtHeuristicResult.Reserved0)));
    }

    [Fact]
    public void Failed_calls_name_the_call_and_the_status()
    {
        var e = Assert.Throws<CudaException>(() => CudaDriver.Check(2, "cuMemAlloc_v2"));
        Assert.Equal("cuMemAlloc_v2", e.Call);
        Assert.Equal(2, e.Code);
        Assert.StartsWith("cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2)", e.Message);
        var b = Assert.Throws<CudaException>(() => CublasLt.Check(15, "cublasLtMatmul"));
        Assert.Equal("CUBLAS_STATUS_NOT_SUPPORTED", b.CodeName);
        var n = Assert.Throws<CudaException>(() => NvmlDevice.Check(4, "nvmlDeviceGetTotalEnergyConsumption"));
        Assert.Equal("NVML_ERROR_NO_PERMISSION", n.CodeName);
        Assert.Contains("CUresult 12345", Assert.Throws<CudaException>(() => CudaDriver.Check(12345, "cuInit")).Message);
        CudaDriver.Check(0, "cuInit");   // success does not throw
    }
}
