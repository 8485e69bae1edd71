namespace Quanta.Cuda.Interop;

/// <summary>CUresult values from cuda.h (CUDA driver API) that this project names; any other value is reported by number.</summary>
public enum CuResult
{
    /// <summary>CUDA_SUCCESS.</summary>
    Success = 0,
    /// <summary>CUDA_ERROR_INVALID_VALUE.</summary>
    InvalidValue = 1,
    /// <summary>CUDA_ERROR_OUT_OF_MEMORY.</summary>
    OutOfMemory = 2,
    /// <summary>CUDA_ERROR_NOT_INITIALIZED.</summary>
    NotInitialized = 3,
    /// <summary>CUDA_ERROR_DEINITIALIZED.</summary>
    Deinitialized = 4,
    /// <summary>CUDA_ERROR_STUB_LIBRARY (the toolkit's stub libcuda was loaded instead of the driver's).</summary>
    StubLibrary = 34,
    /// <summary>CUDA_ERROR_NO_DEVICE.</summary>
    NoDevice = 100,
    /// <summary>CUDA_ERROR_INVALID_DEVICE.</summary>
    InvalidDevice = 101,
    /// <summary>CUDA_ERROR_INVALID_CONTEXT.</summary>
    InvalidContext = 201,
    /// <summary>CUDA_ERROR_INVALID_HANDLE.</summary>
    InvalidHandle = 400,
    /// <summary>CUDA_ERROR_NOT_READY.</summary>
    NotReady = 600,
    /// <summary>CUDA_ERROR_ILLEGAL_ADDRESS.</summary>
    IllegalAddress = 700,
    /// <summary>CUDA_ERROR_LAUNCH_FAILED.</summary>
    LaunchFailed = 719,
    /// <summary>CUDA_ERROR_NOT_SUPPORTED.</summary>
    NotSupported = 801,
    /// <summary>CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED.</summary>
    StreamCaptureUnsupported = 900,
    /// <summary>CUDA_ERROR_STREAM_CAPTURE_INVALIDATED.</summary>
    StreamCaptureInvalidated = 901,
    /// <summary>CUDA_ERROR_UNKNOWN.</summary>
    Unknown = 999,
}

/// <summary>CUdevice_attribute values (cuda.h) read by <see cref="CudaDevice"/>.</summary>
public enum CuDeviceAttribute
{
    /// <summary>CU_DEVICE_ATTRIBUTE_CLOCK_RATE (kHz).</summary>
    ClockRate = 13,
    /// <summary>CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT.</summary>
    MultiprocessorCount = 16,
    /// <summary>CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE (kHz).</summary>
    MemoryClockRate = 36,
    /// <summary>CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH (bits).</summary>
    GlobalMemoryBusWidth = 37,
    /// <summary>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR.</summary>
    ComputeCapabilityMajor = 75,
    /// <summary>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR.</summary>
    ComputeCapabilityMinor = 76,
}

/// <summary>CUstreamCaptureMode (cuda.h).</summary>
public enum CuStreamCaptureMode
{
    /// <summary>CU_STREAM_CAPTURE_MODE_GLOBAL.</summary>
    Global = 0,
    /// <summary>CU_STREAM_CAPTURE_MODE_THREAD_LOCAL.</summary>
    ThreadLocal = 1,
    /// <summary>CU_STREAM_CAPTURE_MODE_RELAXED.</summary>
    Relaxed = 2,
}
