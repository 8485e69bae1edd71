using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>
/// P/Invoke declarations of cuBLASLt (cublasLt.h), blittable signatures: handles and descriptors are pointers, device
/// buffers are 64-bit device addresses, alpha/beta are host floats (pointer mode host), attribute buffers are passed
/// by reference with their size.
/// </summary>
internal static class CublasLtNative
{
    private const string Lib = NativeLibraries.CublasLtName;

    [DllImport(Lib)] internal static extern int cublasLtCreate(out nint handle);
    [DllImport(Lib)] internal static extern int cublasLtDestroy(nint handle);
    [DllImport(Lib)] internal static extern nuint cublasLtGetVersion();
    [DllImport(Lib)] internal static extern int cublasLtMatmulDescCreate(out nint desc, int computeType, int scaleType);
    [DllImport(Lib)] internal static extern int cublasLtMatmulDescDestroy(nint desc);
    [DllImport(Lib)] internal static extern int cublasLtMatmulDescSetAttribute(nint desc, int attribute, ref int value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatmulDescSetAttribute(nint desc, int attribute, ref ulong value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatmulDescSetAttribute(nint desc, int attribute, ref sbyte value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatrixLayoutCreate(out nint layout, int type, ulong rows, ulong cols, long ld);
    [DllImport(Lib)] internal static extern int cublasLtMatrixLayoutDestroy(nint layout);
    [DllImport(Lib)] internal static extern int cublasLtMatrixLayoutSetAttribute(nint layout, int attribute, ref int value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatrixLayoutSetAttribute(nint layout, int attribute, ref long value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatmulPreferenceCreate(out nint preference);
    [DllImport(Lib)] internal static extern int cublasLtMatmulPreferenceDestroy(nint preference);
    [DllImport(Lib)] internal static extern int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, ref ulong value, nuint size);
    [DllImport(Lib)] internal static extern int cublasLtMatmulAlgoGetHeuristic(nint handle, nint operationDesc, nint aDesc, nint bDesc, nint cDesc,
        nint dDesc, nint preference, int requestedAlgoCount, ref CublasLtHeuristicResult results, out int returnedAlgoCount);
    [DllImport(Lib)] internal static extern int cublasLtMatmulAlgoGetHeuristic(nint handle, nint operationDesc, nint aDesc, nint bDesc, nint cDesc,
        nint dDesc, nint preference, int requestedAlgoCount, [In, Out] CublasLtHeuristicResult[] results, out int returnedAlgoCount);
    [DllImport(Lib)] internal static extern int cublasLtMatmul(nint handle, nint computeDesc, ref float alpha, ulong a, nint aDesc, ulong b, nint bDesc,
        ref float beta, ulong c, nint cDesc, ulong d, nint dDesc, ref CublasLtMatmulAlgo algo, ulong workspace, nuint workspaceBytes, nint stream);
}
