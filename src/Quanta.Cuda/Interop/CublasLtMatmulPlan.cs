namespace Quanta.Cuda.Interop;

/// <summary>
/// One cuBLASLt matrix product shape, planned once: D[n, m] = α·op(A)·B in cuBLASLt's column-major terms, which is
/// Y[m, n] = X[m, k]·W[n, k]ᵀ for row-major W (weights, A with TRANSA = T, lda = k) and X (activations, B with
/// TRANSB = N, ldb = k) and a row-major F32 or BF16 output Y (D, ldd = n): the "TN" layout FP8 requires. A and B are
/// both BF16 or both FP8 E4M3; for FP8 the per-tensor scales are device floats given through
/// CUBLASLT_MATMUL_DESC_A_SCALE_POINTER / B_SCALE_POINTER (cuBLASLt multiplies the product by scaleA·scaleB).
/// The algorithm comes from cublasLtMatmulAlgoGetHeuristic with the given workspace limit. Owns its descriptors.
/// </summary>
public sealed class CublasLtMatmulPlan : IDisposable
{
    private nint _desc, _a, _b, _d, _pref;
    private CublasLtMatmulAlgo _algo;
    private CublasLtMatmulAlgo[] _candidates = [];

    /// <summary>Algorithms asked of the heuristic; the first run outside graph capture times them and keeps the fastest.</summary>
    public const int CandidateCount = 8;

    /// <summary>Plans the product for m activations rows, n weight rows and inner dimension k (packed, one matrix).</summary>
    public CublasLtMatmulPlan(CublasLtHandle handle, int m, int n, int k, CudaDataType inputType, CudaDataType outputType,
        ulong aScalePointer, ulong bScalePointer, long workspaceBytes)
        : this(handle, m, n, k, inputType, outputType, aScalePointer, bScalePointer, workspaceBytes, new BatchLayout(k, 0, k, 0, n, 0, 1))
    {
    }

    /// <summary>
    /// Leading dimensions (elements between rows of the row-major W, X and Y) and batch strides (elements between
    /// consecutive matrices) of a strided batched product; <see cref="Batch"/> 1 is a single product.
    /// </summary>
    public readonly record struct BatchLayout(int LdW, long StrideW, int LdX, long StrideX, int LdY, long StrideY, int Batch);

    /// <summary>Plans a strided batched product: for b &lt; batch, Y_b [m, n] = X_b [m, k] · W_b [n, k]ᵀ with <paramref name="layout"/>.</summary>
    public CublasLtMatmulPlan(CublasLtHandle handle, int m, int n, int k, CudaDataType inputType, CudaDataType outputType,
        ulong aScalePointer, ulong bScalePointer, long workspaceBytes, BatchLayout layout)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        M = m;
        N = n;
        K = k;
        try
        {
            CublasLt.Check(CublasLtNative.cublasLtMatmulDescCreate(out _desc, (int)CublasComputeType.Compute32F, (int)CudaDataType.R32F), "cublasLtMatmulDescCreate");
            int transA = (int)CublasOperation.T, transB = (int)CublasOperation.N;
            CublasLt.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(_desc, (int)CublasLtMatmulDescAttribute.TransA, ref transA, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSA)");
            CublasLt.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(_desc, (int)CublasLtMatmulDescAttribute.TransB, ref transB, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSB)");
            if (inputType == CudaDataType.R8F_E4M3)
            {
                CublasLt.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(_desc, (int)CublasLtMatmulDescAttribute.AScalePointer, ref aScalePointer, sizeof(ulong)), "cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)");
                CublasLt.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(_desc, (int)CublasLtMatmulDescAttribute.BScalePointer, ref bScalePointer, sizeof(ulong)), "cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)");
                sbyte fast = 1;
                CublasLt.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(_desc, (int)CublasLtMatmulDescAttribute.FastAccum, ref fast, 1), "cublasLtMatmulDescSetAttribute(FAST_ACCUM)");
            }
            // column-major: A is W viewed as [k, n] (ld k), B is X viewed as [k, m] (ld k), D is Y viewed as [n, m] (ld n)
            ArgumentOutOfRangeException.ThrowIfLessThan(layout.LdW, k);
            ArgumentOutOfRangeException.ThrowIfLessThan(layout.LdX, k);
            ArgumentOutOfRangeException.ThrowIfLessThan(layout.LdY, n);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layout.Batch);
            CublasLt.Check(CublasLtNative.cublasLtMatrixLayoutCreate(out _a, (int)inputType, (ulong)k, (ulong)n, layout.LdW), "cublasLtMatrixLayoutCreate(A)");
            CublasLt.Check(CublasLtNative.cublasLtMatrixLayoutCreate(out _b, (int)inputType, (ulong)k, (ulong)m, layout.LdX), "cublasLtMatrixLayoutCreate(B)");
            CublasLt.Check(CublasLtNative.cublasLtMatrixLayoutCreate(out _d, (int)outputType, (ulong)n, (ulong)m, layout.LdY), "cublasLtMatrixLayoutCreate(D)");
            if (layout.Batch > 1)
            {
                SetBatch(_a, layout.Batch, layout.StrideW, "A");
                SetBatch(_b, layout.Batch, layout.StrideX, "B");
                SetBatch(_d, layout.Batch, layout.StrideY, "D");
            }
            Batch = layout.Batch;
            CublasLt.Check(CublasLtNative.cublasLtMatmulPreferenceCreate(out _pref), "cublasLtMatmulPreferenceCreate");
            ulong ws = (ulong)workspaceBytes;
            CublasLt.Check(CublasLtNative.cublasLtMatmulPreferenceSetAttribute(_pref, (int)CublasLtPreferenceAttribute.MaxWorkspaceBytes, ref ws, sizeof(ulong)), "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
            var results = new CublasLtHeuristicResult[CandidateCount];
            CublasLt.Check(CublasLtNative.cublasLtMatmulAlgoGetHeuristic(handle.Pointer, _desc, _a, _b, _d, _d, _pref, CandidateCount, results, out int found),
                "cublasLtMatmulAlgoGetHeuristic");
            var usable = results.Take(Math.Clamp(found, 0, CandidateCount)).Where(r => r.State == 0).ToArray();
            if (usable.Length == 0)
                throw new CudaException("cublasLtMatmulAlgoGetHeuristic", (int)CublasStatus.NotSupported, "CUBLAS_STATUS_NOT_SUPPORTED",
                    $"no algorithm for m={m} n={n} k={k} {inputType}→{outputType}");
            _algo = usable[0].Algo;
            _candidates = usable.Length > 1 ? usable.Select(r => r.Algo).ToArray() : [];
            WorkspaceBytes = (long)usable.Max(r => (long)r.WorkspaceSize);
        }
        catch
        {
            Dispose();
            throw;
        }
        Handle = handle;
    }

    private static void SetBatch(nint desc, int batch, long stride, string which)
    {
        CublasLt.Check(CublasLtNative.cublasLtMatrixLayoutSetAttribute(desc, (int)CublasLtMatrixLayoutAttribute.BatchCount, ref batch, sizeof(int)),
            $"cublasLtMatrixLayoutSetAttribute({which}, BATCH_COUNT)");
        CublasLt.Check(CublasLtNative.cublasLtMatrixLayoutSetAttribute(desc, (int)CublasLtMatrixLayoutAttribute.StridedBatchOffset, ref stride, sizeof(long)),
            $"cublasLtMatrixLayoutSetAttribute({which}, STRIDED_BATCH_OFFSET)");
    }

    /// <summary>Matrices per call (1: a single product).</summary>
    public int Batch { get; }

    /// <summary>The library handle.</summary>
    public CublasLtHandle Handle { get; }

    /// <summary>Activation rows.</summary>
    public int M { get; }

    /// <summary>Weight rows (outputs).</summary>
    public int N { get; }

    /// <summary>Inner dimension.</summary>
    public int K { get; }

    /// <summary>Workspace the chosen algorithm needs.</summary>
    public long WorkspaceBytes { get; }

    /// <summary>Algorithms the heuristic offered that are still to be timed (0 once tuned).</summary>
    public int UntunedCandidates => _candidates.Length;

    /// <summary>
    /// Queues Y = α·X·Wᵀ on <paramref name="stream"/> (device addresses of W, X and Y). The first call made outside CUDA
    /// graph capture with more than one candidate algorithm times each candidate on these operands (two warm-up runs and
    /// five timed, CUDA events; it synchronizes the stream) and keeps the fastest: the heuristic's first choice is often
    /// not the fastest for decode-sized products. Every candidate computes the same product, so Y holds it either way.
    /// </summary>
    public void Run(ulong weights, ulong activations, ulong output, ulong workspace, long workspaceBytes, nint stream, float alpha = 1f)
    {
        ObjectDisposedException.ThrowIf(_desc == 0, this);
        if (_candidates.Length > 0 && stream != 0 && !CudaDriver.IsCapturing(stream)) Tune(weights, activations, output, workspace, workspaceBytes, stream, alpha);
        Launch(ref _algo, weights, activations, output, workspace, workspaceBytes, stream, alpha);
    }

    /// <summary>Keeps the heuristic's first choice and never times the others (shapes used once or twice).</summary>
    public void KeepHeuristicChoice() => _candidates = [];

    private void Tune(ulong weights, ulong activations, ulong output, ulong workspace, long workspaceBytes, nint stream, float alpha)
    {
        using var start = new CudaEvent();
        using var end = new CudaEvent();
        float best = float.MaxValue;
        CublasLtMatmulAlgo chosen = _algo;
        foreach (CublasLtMatmulAlgo candidate in _candidates)
        {
            CublasLtMatmulAlgo algo = candidate;
            try
            {
                for (int i = 0; i < 2; i++) Launch(ref algo, weights, activations, output, workspace, workspaceBytes, stream, alpha);
                start.Record(stream);
                for (int i = 0; i < 5; i++) Launch(ref algo, weights, activations, output, workspace, workspaceBytes, stream, alpha);
                end.Record(stream);
                end.Synchronize();
            }
            catch (CudaException)
            {
                continue;   // a candidate that refuses these operands (e.g. their alignment) is skipped
            }
            float ms = end.ElapsedSince(start);
            if (ms < best)
            {
                best = ms;
                chosen = candidate;
            }
        }
        _algo = chosen;
        _candidates = [];
    }

    private void Launch(ref CublasLtMatmulAlgo algo, ulong weights, ulong activations, ulong output, ulong workspace, long workspaceBytes, nint stream, float alpha)
    {
        float beta = 0f;
        CublasLt.Check(CublasLtNative.cublasLtMatmul(Handle.Pointer, _desc, ref alpha, weights, _a, activations, _b, ref beta, output, _d, output, _d,
            ref algo, workspace, (nuint)workspaceBytes, stream), "cublasLtMatmul");
    }

    /// <summary>Destroys the descriptors; idempotent.</summary>
    public void Dispose()
    {
        if (_pref != 0) CublasLtNative.cublasLtMatmulPreferenceDestroy(_pref);
        if (_d != 0) CublasLtNative.cublasLtMatrixLayoutDestroy(_d);
        if (_b != 0) CublasLtNative.cublasLtMatrixLayoutDestroy(_b);
        if (_a != 0) CublasLtNative.cublasLtMatrixLayoutDestroy(_a);
        if (_desc != 0) CublasLtNative.cublasLtMatmulDescDestroy(_desc);
        _pref = _d = _b = _a = _desc = 0;
    }
}
