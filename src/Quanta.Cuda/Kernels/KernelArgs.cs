namespace Quanta.Cuda.Kernels;

/// <summary>Element format of matrix-product operands on the device.</summary>
public enum DeviceFormat
{
    /// <summary>bfloat16, 2 bytes per element.</summary>
    BF16 = 0,

    /// <summary>OCP FP8 E4M3, 1 byte per element, with a scale (value = code · scale).</summary>
    Fp8E4M3 = 1,
}

/// <summary>Scalar arguments of <see cref="PagedAttentionKernel"/> (one struct keeps the kernel's parameter count small).</summary>
internal struct AttentionArgs
{
    public int Heads, KvHeads, HeadDim;
    public int QkvStride;        // floats per token row of the fused QKV buffer; queries at column 0
    public int BlockSize, MaxBlocks, MaxPositions;
    public int SlidingWindow;    // 0: none
    public long LayerOffset;     // elements: layer · slots · KvHeads · HeadDim
    public float Scale, SoftCap; // SoftCap 0: none
    public int Splits;           // context splits per row (0: enough for MaxPositions); see PagedAttentionKernel
    public int SplitSize;        // positions per split, 1..PagedAttentionKernel.SplitPositions (0: the most)
}
