namespace Quanta.Cuda.Interop;

/// <summary>
/// A native NVIDIA call returned an error: <see cref="Call"/> names the function (e.g. "cuMemAlloc_v2"),
/// <see cref="Code"/> is its numeric status and <see cref="CodeName"/> the status's name from the library's header
/// (CUresult, cublasStatus_t or nvmlReturn_t).
/// </summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    public CudaException(string call, int code, string codeName, string? detail = null)
        : base($"{call} failed with {codeName} ({code})" + (string.IsNullOrEmpty(detail) ? "" : $": {detail}"))
    {
        Call = call;
        Code = code;
        CodeName = codeName;
    }

    /// <summary>Creates the exception with a message.</summary>
    public CudaException() : this("", 0, "") { }

    /// <summary>Creates the exception with a message.</summary>
    public CudaException(string message) : base(message)
    {
        Call = CodeName = "";
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public CudaException(string message, Exception innerException) : base(message, innerException)
    {
        Call = CodeName = "";
    }

    /// <summary>The native function that failed.</summary>
    public string Call { get; }

    /// <summary>Its status code.</summary>
    public int Code { get; }

    /// <summary>The status code's name in the library's header.</summary>
    public string CodeName { get; }
}
