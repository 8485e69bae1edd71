using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>A cublasLtHandle_t (cublasLtCreate in the current context), destroyed once on dispose.</summary>
public sealed class CublasLtHandle : SafeHandle
{
    /// <summary>Loads cuBLASLt and creates a handle.</summary>
    public CublasLtHandle() : base(0, ownsHandle: true)
    {
        NativeLibraries.Require(NvidiaLibrary.CublasLt);
        CublasLt.Check(CublasLtNative.cublasLtCreate(out nint h), "cublasLtCreate");
        SetHandle(h);
    }

    /// <summary>The raw handle.</summary>
    public nint Pointer => handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => CublasLtNative.cublasLtDestroy(handle) == 0;
}
