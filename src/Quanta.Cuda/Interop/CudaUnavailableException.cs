namespace Quanta.Cuda.Interop;

/// <summary>
/// Thrown when a native NVIDIA library (the driver's libcuda, cuBLASLt or NVML) cannot be found or loaded. The message
/// names the library and every file name that was tried, so "no GPU driver on this machine" is told apart from a
/// failing call (<see cref="CudaException"/>).
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    /// <summary>Creates the exception for <paramref name="library"/> after trying <paramref name="tried"/>.</summary>
    public CudaUnavailableException(string library, IReadOnlyList<string> tried, string? detail = null)
        : base($"{library} is not available: none of [{string.Join(", ", tried ?? [])}] could be loaded" +
               (string.IsNullOrEmpty(detail) ? "" : $" ({detail})") +
               ". The NVIDIA driver (and, for matrix products, the CUDA toolkit's cuBLASLt) must be installed and on the loader path.")
    {
        Library = library;
        Tried = tried ?? [];
    }

    /// <summary>Creates the exception with a message.</summary>
    public CudaUnavailableException() : this("CUDA", []) { }

    /// <summary>Creates the exception with a message.</summary>
    public CudaUnavailableException(string message) : base(message)
    {
        Library = "";
        Tried = [];
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public CudaUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
        Library = "";
        Tried = [];
    }

    /// <summary>The library that was looked for (e.g. "CUDA driver").</summary>
    public string Library { get; }

    /// <summary>File names tried, in order.</summary>
    public IReadOnlyList<string> Tried { get; }
}
