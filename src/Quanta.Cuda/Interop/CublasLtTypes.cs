using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Cuda.Interop;

/// <summary>cudaDataType_t (library_types.h) values used with cuBLASLt.</summary>
public enum CudaDataType
{
    /// <summary>CUDA_R_32F.</summary>
    R32F = 0,
    /// <summary>CUDA_R_16F.</summary>
    R16F = 2,
    /// <summary>CUDA_R_16BF.</summary>
    R16BF = 14,
    /// <summary>CUDA_R_8F_E4M3.</summary>
    R8F_E4M3 = 28,
    /// <summary>CUDA_R_8F_E5M2.</summary>
    R8F_E5M2 = 29,
}

/// <summary>cublasComputeType_t (cublas_api.h).</summary>
public enum CublasComputeType
{
    /// <summary>CUBLAS_COMPUTE_32F.</summary>
    Compute32F = 68,
    /// <summary>CUBLAS_COMPUTE_32F_FAST_TF32.</summary>
    Compute32FFastTf32 = 77,
}

/// <summary>cublasOperation_t (cublas_api.h).</summary>
public enum CublasOperation
{
    /// <summary>CUBLAS_OP_N.</summary>
    N = 0,
    /// <summary>CUBLAS_OP_T.</summary>
    T = 1,
}

/// <summary>cublasStatus_t (cublas_api.h).</summary>
public enum CublasStatus
{
    /// <summary>CUBLAS_STATUS_SUCCESS.</summary>
    Success = 0,
    /// <summary>CUBLAS_STATUS_NOT_INITIALIZED.</summary>
    NotInitialized = 1,
    /// <summary>CUBLAS_STATUS_ALLOC_FAILED.</summary>
    AllocFailed = 3,
    /// <summary>CUBLAS_STATUS_INVALID_VALUE.</summary>
    InvalidValue = 7,
    /// <summary>CUBLAS_STATUS_ARCH_MISMATCH.</summary>
    ArchMismatch = 8,
    /// <summary>CUBLAS_STATUS_MAPPING_ERROR.</summary>
    MappingError = 11,
    /// <summary>CUBLAS_STATUS_EXECUTION_FAILED.</summary>
    ExecutionFailed = 13,
    /// <summary>CUBLAS_STATUS_INTERNAL_ERROR.</summary>
    InternalError = 14,
    /// <summary>CUBLAS_STATUS_NOT_SUPPORTED.</summary>
    NotSupported = 15,
    /// <summary>CUBLAS_STATUS_LICENSE_ERROR.</summary>
    LicenseError = 16,
}

/// <summary>cublasLtMatmulDescAttributes_t (cublasLt.h) values used here.</summary>
public enum CublasLtMatmulDescAttribute
{
    /// <summary>CUBLASLT_MATMUL_DESC_COMPUTE_TYPE.</summary>
    ComputeType = 0,
    /// <summary>CUBLASLT_MATMUL_DESC_SCALE_TYPE.</summary>
    ScaleType = 1,
    /// <summary>CUBLASLT_MATMUL_DESC_POINTER_MODE.</summary>
    PointerMode = 2,
    /// <summary>CUBLASLT_MATMUL_DESC_TRANSA.</summary>
    TransA = 3,
    /// <summary>CUBLASLT_MATMUL_DESC_TRANSB.</summary>
    TransB = 4,
    /// <summary>CUBLASLT_MATMUL_DESC_EPILOGUE.</summary>
    Epilogue = 7,
    /// <summary>CUBLASLT_MATMUL_DESC_A_SCALE_POINTER (device float*, FP8 inputs).</summary>
    AScalePointer = 17,
    /// <summary>CUBLASLT_MATMUL_DESC_B_SCALE_POINTER.</summary>
    BScalePointer = 18,
    /// <summary>CUBLASLT_MATMUL_DESC_C_SCALE_POINTER.</summary>
    CScalePointer = 19,
    /// <summary>CUBLASLT_MATMUL_DESC_D_SCALE_POINTER.</summary>
    DScalePointer = 20,
    /// <summary>CUBLASLT_MATMUL_DESC_AMAX_D_POINTER.</summary>
    AmaxDPointer = 21,
    /// <summary>CUBLASLT_MATMUL_DESC_FAST_ACCUM (int8_t: FP8 fast accumulation).</summary>
    FastAccum = 25,
}

/// <summary>cublasLtMatrixLayoutAttribute_t (cublasLt.h).</summary>
public enum CublasLtMatrixLayoutAttribute
{
    /// <summary>CUBLASLT_MATRIX_LAYOUT_TYPE.</summary>
    Type = 0,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_ORDER.</summary>
    Order = 1,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_ROWS.</summary>
    Rows = 2,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_COLS.</summary>
    Cols = 3,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_LD.</summary>
    Ld = 4,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT (int32_t).</summary>
    BatchCount = 5,
    /// <summary>CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET (int64_t, elements between batches).</summary>
    StridedBatchOffset = 6,
}

/// <summary>cublasLtMatmulPreferenceAttributes_t (cublasLt.h).</summary>
public enum CublasLtPreferenceAttribute
{
    /// <summary>CUBLASLT_MATMUL_PREF_SEARCH_MODE.</summary>
    SearchMode = 0,
    /// <summary>CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES (uint64_t).</summary>
    MaxWorkspaceBytes = 1,
}

/// <summary>cublasLtMatmulAlgo_t: uint64_t data[8], an opaque 64-byte value.</summary>
[InlineArray(8)]
public struct CublasLtMatmulAlgo
{
    private ulong _element0;
}

/// <summary>
/// cublasLtMatmulHeuristicResult_t: { cublasLtMatmulAlgo_t algo; size_t workspaceSize; cublasStatus_t state;
/// float wavesCount; int reserved[4]; } — 96 bytes on 64-bit platforms.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct CublasLtHeuristicResult
{
    /// <summary>The algorithm to pass to cublasLtMatmul.</summary>
    public CublasLtMatmulAlgo Algo;
    /// <summary>Workspace bytes it needs.</summary>
    public nuint WorkspaceSize;
    /// <summary>CUBLAS_STATUS_SUCCESS when usable.</summary>
    public int State;
    /// <summary>Waves count estimate.</summary>
    public float WavesCount;
    /// <summary>reserved[0].</summary>
    public int Reserved0;
    /// <summary>reserved[1].</summary>
    public int Reserved1;
    /// <summary>reserved[2].</summary>
    public int Reserved2;
    /// <summary>reserved[3].</summary>
    public int Reserved3;
}
