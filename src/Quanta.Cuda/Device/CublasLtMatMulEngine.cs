using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Quanta.Cuda.Interop;
using Quanta.Cuda.Kernels;

namespace Quanta.Cuda.Device;

/// <summary>
/// Matrix products through cuBLASLt on ILGPU's CUDA accelerator (same context, same stream): BF16×BF16 or
/// E4M3×E4M3 with per-tensor scale pointers, F32 accumulation and output. Plans (descriptors + heuristic algorithm)
/// are made once per (m, n, k, format) and cached, each timing the heuristic's candidate algorithms on its first run
/// outside graph capture (see <see cref="CublasLtMatmulPlan.Run"/>); a 32 MiB workspace is shared.
/// </summary>
public sealed class CublasLtMatMulEngine : IMatMulEngine
{
    private const long WorkspaceBytes = 32L << 20;
    private readonly CudaAccelerator _accelerator;
    private readonly nint _stream;
    private readonly CublasLtHandle _handle;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _workspace;
    private const int MaxBatchedPlans = 256;
    private const int MaxPlans = 512;

    /// <summary>
    /// Products with at most this many activation rows (decode batches, replayed many times) time the heuristic's
    /// candidate algorithms once; larger ones (prompt chunks of varying length) keep the heuristic's choice.
    /// </summary>
    public const int MaxTunedRows = 64;
    private readonly Dictionary<(int M, int N, int K, DeviceFormat F, ulong A, ulong B), CublasLtMatmulPlan> _plans = [];
    private readonly Dictionary<(int M, int N, int K, CublasLtMatmulPlan.BatchLayout L), CublasLtMatmulPlan> _batched = [];

    /// <summary>Creates the cuBLASLt handle in the accelerator's context; products are queued on <paramref name="stream"/>.</summary>
    public CublasLtMatMulEngine(CudaAccelerator accelerator, AcceleratorStream stream)
    {
        _accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        ArgumentNullException.ThrowIfNull(stream);
        _stream = ((ILGPU.Runtime.Cuda.CudaStream)stream).StreamPtr;
        accelerator.Bind();
        _handle = new CublasLtHandle();
        _workspace = accelerator.Allocate1D<byte>(WorkspaceBytes);
    }

    /// <inheritdoc/>
    public string Name => "cublaslt";

    /// <inheritdoc/>
    public void MatMul(DeviceMatrix w, MemoryBuffer1D<byte, Stride1D.Dense> x, MemoryBuffer1D<float, Stride1D.Dense> xScale, int m,
        MemoryBuffer1D<float, Stride1D.Dense> y)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(xScale);
        ArgumentNullException.ThrowIfNull(y);
        if ((long)m * w.Rows > y.Length) throw new ArgumentException($"y holds {y.Length} floats, the product needs {(long)m * w.Rows}", nameof(y));
        ulong aScale = (ulong)w.Scale.NativePtr, bScale = (ulong)xScale.NativePtr;
        var key = (m, w.Rows, w.Cols, w.Format, w.Format == DeviceFormat.Fp8E4M3 ? aScale : 0UL, w.Format == DeviceFormat.Fp8E4M3 ? bScale : 0UL);
        if (!_plans.TryGetValue(key, out CublasLtMatmulPlan? plan))
        {
            CudaDataType input = w.Format == DeviceFormat.BF16 ? CudaDataType.R16BF : CudaDataType.R8F_E4M3;
            ClearWhenFull(_plans, MaxPlans);   // chunked prefill steps come in many token counts: start over rather than grow
            plan = new CublasLtMatmulPlan(_handle, m, w.Rows, w.Cols, input, CudaDataType.R32F, aScale, bScale, WorkspaceBytes);
            if (m > MaxTunedRows) plan.KeepHeuristicChoice();
            _plans[key] = plan;
        }
        plan.Run((ulong)w.Data.NativePtr, (ulong)x.NativePtr, (ulong)y.NativePtr, (ulong)_workspace.NativePtr, WorkspaceBytes, _stream);
    }

    /// <inheritdoc/>
    public void BatchedMatMulBf16(MemoryBuffer1D<ushort, Stride1D.Dense> x, long xOffset, int ldx, long strideX,
        MemoryBuffer1D<ushort, Stride1D.Dense> w, long wOffset, int ldw, long strideW,
        MemoryBuffer1D<float, Stride1D.Dense> y, long yOffset, int ldy, long strideY, int m, int n, int k, int batch)
    {
        var layout = new CublasLtMatmulPlan.BatchLayout(ldw, strideW, ldx, strideX, ldy, strideY, batch);
        var key = (m, n, k, layout);
        if (!_batched.TryGetValue(key, out CublasLtMatmulPlan? plan))
        {
            ClearWhenFull(_batched, MaxBatchedPlans);   // prompt lengths vary without bound in serving
            plan = new CublasLtMatmulPlan(_handle, m, n, k, CudaDataType.R16BF, CudaDataType.R32F, 0, 0, WorkspaceBytes, layout);
            plan.KeepHeuristicChoice();   // attention shapes change with every prompt length: timing each would cost more than it saves
            _batched[key] = plan;
        }
        plan.Run((ulong)w.NativePtr + (ulong)(wOffset * sizeof(ushort)), (ulong)x.NativePtr + (ulong)(xOffset * sizeof(ushort)),
            (ulong)y.NativePtr + (ulong)(yOffset * sizeof(float)), (ulong)_workspace.NativePtr, WorkspaceBytes, _stream);
    }

    private static void ClearWhenFull<TKey>(Dictionary<TKey, CublasLtMatmulPlan> plans, int limit) where TKey : notnull
    {
        if (plans.Count < limit) return;
        foreach (var old in plans.Values) old.Dispose();
        plans.Clear();
    }

    /// <summary>Destroys the plans, the workspace and the handle.</summary>
    public void Dispose()
    {
        foreach (var p in _plans.Values) p.Dispose();
        _plans.Clear();
        foreach (var p in _batched.Values) p.Dispose();
        _batched.Clear();
        _workspace.Dispose();
        _handle.Dispose();
    }
}
