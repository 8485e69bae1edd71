namespace Quanta.Cuda.Interop;

/// <summary>Checked cuBLASLt calls: loads the library on first use and turns every non-success status into a <see cref="CudaException"/>.</summary>
public static class CublasLt
{
    /// <summary>Loads cuBLASLt (<see cref="CudaUnavailableException"/> when absent) and returns cublasLtGetVersion().</summary>
    public static long Version()
    {
        NativeLibraries.Require(NvidiaLibrary.CublasLt);
        return (long)CublasLtNative.cublasLtGetVersion();
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0)
            throw new CudaException(call, status, HeaderNames.Of<CublasStatus>(status, "CUBLAS_STATUS_", "cublasStatus_t"));
    }
}
