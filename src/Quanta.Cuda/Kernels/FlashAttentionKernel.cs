using ILGPU.Runtime.Cuda;
using Quanta.Cuda.Interop;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Causal prefill attention in one pass over the keys on the tensor cores (Native/flash_attention.cu, compiled for the
/// device by NVRTC when first asked for): reads the chunk's queries from the F32 QKV rows and the gathered BF16 K and
/// Vᵀ (<see cref="GatherKvKernel"/>), writes normalized F32 output rows; no score matrix. Needs compute capability 8.0
/// or later (BF16 mma.sync) and a head size of 64 or 128. Owns the loaded module.
/// </summary>
internal sealed class FlashAttentionKernel : IDisposable
{
    /// <summary>Query rows (token × head of one KV group) per block of 4 warps.</summary>
    public const int RowsPerBlock = 64;

    private const string SourceName = "flash_attention.cu";
    private readonly CudaAccelerator _accelerator;
    private readonly CudaModule _module;
    private readonly CudaFunction _hd64, _hd128;

    private FlashAttentionKernel(CudaAccelerator accelerator, CudaModule module)
    {
        _accelerator = accelerator;
        _module = module;
        _hd64 = module.Function("flash_attention_64");
        _hd128 = module.Function("flash_attention_128");
        _hd64.SetMaxDynamicSharedMemory(SharedBytes(64));
        _hd128.SetMaxDynamicSharedMemory(SharedBytes(128));
    }

    /// <summary>
    /// Dynamic shared memory of one block: two stages of a 64-key K tile (rows of HeadDim + 32 elements) and Vᵀ tile
    /// (HeadDim rows of 96 elements), BF16 — the kernel's Tiles&lt;HD&gt;::Bytes.
    /// </summary>
    public static int SharedBytes(int headDim) => 2 * (64 * (headDim + 32) + headDim * 96) * sizeof(ushort);

    /// <summary>Head sizes the kernel is compiled for.</summary>
    public static bool Supports(int headDim) => headDim is 64 or 128;

    /// <summary>The CUDA C++ source, embedded in this assembly.</summary>
    public static string Source() => NativeKernelSource.Text(SourceName);

    /// <summary>
    /// Compiles and loads the kernel for <paramref name="accelerator"/>'s device. Throws <see cref="NotSupportedException"/>
    /// below compute capability 8.0, otherwise as <see cref="NativeKernelSource.Compile"/>.
    /// </summary>
    public static FlashAttentionKernel Create(CudaAccelerator accelerator) =>
        NativeKernelSource.Load(accelerator, SourceName, 8, 0, "BF16 tensor-core instructions need", m => new FlashAttentionKernel(accelerator, m));

    /// <summary>
    /// Queues the attention of <paramref name="a"/>.Tokens query tokens at positions FirstPosition + t over keys
    /// [0, Length) (padded with zeros to Padded ≤ KeyRows) on <paramref name="stream"/>: <paramref name="qkv"/> is the
    /// chunk's first QKV row, <paramref name="output"/> its first output row (Heads·HeadDim floats per token).
    /// </summary>
    public void Run(ulong qkv, ulong keys, ulong valuesT, ulong output, in PrefillArgs a, nint stream)
    {
        CudaFunction f = a.HeadDim switch
        {
            64 => _hd64,
            128 => _hd128,
            _ => throw new NotSupportedException($"head size {a.HeadDim}: the kernel is compiled for 64 and 128"),
        };
        if (a.Tokens <= 0) return;
        if (a.Padded % 16 != 0 || a.Padded < a.Length || a.KeyRows < a.Padded || a.KeyRows % 16 != 0 || a.QkvStride % 2 != 0)
            throw new ArgumentException($"padded {a.Padded}, length {a.Length}, key rows {a.KeyRows}: padded must be a multiple of 16 in [length, key rows]", nameof(a));
        int rows = a.Tokens * (a.Heads / a.KvHeads);
        f.SetPointer(0, qkv);
        f.SetPointer(1, keys);
        f.SetPointer(2, valuesT);
        f.SetPointer(3, output);
        f.SetInt(4, a.Tokens);
        f.SetInt(5, a.FirstPosition);
        f.SetInt(6, a.Heads);
        f.SetInt(7, a.KvHeads);
        f.SetInt(8, a.QkvStride);
        f.SetInt(9, a.KeyRows);
        f.SetInt(10, a.Padded);
        f.SetInt(11, a.SlidingWindow);
        f.SetFloat(12, a.Scale);
        f.SetFloat(13, a.SoftCap);
        _accelerator.Bind();
        f.Launch((uint)((rows + RowsPerBlock - 1) / RowsPerBlock), (uint)a.KvHeads, 1, 128, 1, 1, (uint)SharedBytes(a.HeadDim), stream);
    }

    /// <summary>Unloads the module.</summary>
    public void Dispose()
    {
        _hd64.Dispose();
        _hd128.Dispose();
        _module.Dispose();
    }
}
