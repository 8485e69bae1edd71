using ILGPU;
using ILGPU.Runtime;
using Quanta.Cuda.Device;

namespace Quanta.Cuda.Kernels;

/// <summary>
/// Every ILGPU kernel of the executor compiled for one accelerator (ILGPU's CPU accelerator in CI, its CUDA
/// accelerator on the device), with typed launch methods. Launches are queued on the accelerator's default stream in
/// call order. Group-reduction kernels use <see cref="GroupSize"/> threads (a power of two ≤ <see cref="MaxGroupSize"/>).
/// </summary>
public sealed class GpuKernels
{
    /// <summary>Largest group size (shared-memory arrays are this long).</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>Largest group of the attention kernel (its shared accumulator holds one row per warp).</summary>
    public const int MaxAttentionGroupSize = 256;

    /// <summary>Largest head dimension the attention kernel takes.</summary>
    public const int MaxHeadDim = 512;

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<byte>, ArrayView<float>, ArrayView<int>, ArrayView<int>, NormArgs> _rms;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, RopeKvArgs> _ropeKv;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> _rope;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<int>, ArrayView<ushort>, ArrayView<ushort>, int, int, int, int, long> _kvWrite;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, AttentionArgs> _attention;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, AttentionArgs> _attentionCombine;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<ulong>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _fp8Gemv;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<float>, int> _swiglu;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<ushort>, int> _swigluBf16;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int> _swigluAmax;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _add;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<float>, int, int> _bias;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int> _channelScale;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, int, float> _embedding;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, int> _argmax;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<ushort>> _toBf16;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<ushort>, ArrayView<float>> _fromBf16;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, int> _absMax;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<byte>, ArrayView<float>> _quantize;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<byte>, ArrayView<float>, int> _quantizeSmall;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>> _dequantize;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<byte>, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _refMatMul;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<byte>, ulong, float, int> _random;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, ArrayView<ushort>, PrefillArgs> _gatherKv;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<ushort>, PrefillArgs> _groupQueries;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<ushort>, ArrayView<float>, PrefillArgs> _causalSoftmax;
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PrefillArgs> _ungroup;
    private readonly Action<AcceleratorStream, Index3D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, BatchedMatMulArgs> _batchedRef;

    /// <summary>Compiles (loads) every kernel for <paramref name="accelerator"/>; launches go to <paramref name="stream"/> (default: the accelerator's default stream).</summary>
    public GpuKernels(Accelerator accelerator, AcceleratorStream? stream = null)
    {
        Accelerator = accelerator ?? throw new ArgumentNullException(nameof(accelerator));
        Stream = stream ?? accelerator.DefaultStream;
        int g = 1;
        while (g * 2 <= Math.Min(MaxGroupSize, accelerator.MaxNumThreadsPerGroup)) g *= 2;
        GroupSize = g;
        AttentionGroupSize = Math.Min(g, MaxAttentionGroupSize);
        _rms = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<byte>, ArrayView<float>, ArrayView<int>, ArrayView<int>, NormArgs>(RmsNormKernel.Run);
        _ropeKv = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, RopeKvArgs>(RopeKvWriteKernel.Run);
        _rope = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(RopeKernel.Run);
        _kvWrite = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<int>, ArrayView<ushort>, ArrayView<ushort>, int, int, int, int, long>(KvWriteKernel.Run);
        _attention = accelerator.LoadKernel<ArrayView<float>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, AttentionArgs>(PagedAttentionKernel.Run);
        _attentionCombine = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, AttentionArgs>(AttentionCombineKernel.Run);
        _fp8Gemv = accelerator.LoadKernel<ArrayView<ulong>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(Fp8GemvKernel.Run);
        _swiglu = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<float>, int>(SwiGluKernel.Run);
        _swigluBf16 = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<ushort>, int>(SwiGluToBf16Kernel.Run);
        _swigluAmax = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(SwiGluAmaxKernel.Run);
        _add = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ResidualAddKernel.Run);
        _bias = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<float>, int, int>(BiasAddKernel.Run);
        _channelScale = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ChannelScaleKernel.Run);
        _embedding = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<ushort>, ArrayView<int>, ArrayView<float>, int, float>(EmbeddingKernel.Run);
        _argmax = accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, int>(ArgmaxKernel.Run);
        _toBf16 = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<ushort>>(ToBf16Kernel.Run);
        _fromBf16 = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<ushort>, ArrayView<float>>(FromBf16Kernel.Run);
        _absMax = accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, int>(AbsMaxKernel.Run);
        _quantize = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<byte>, ArrayView<float>>(QuantizeE4M3Kernel.Run);
        _quantizeSmall = accelerator.LoadKernel<ArrayView<float>, ArrayView<byte>, ArrayView<float>, int>(QuantizeE4M3SmallKernel.Run);
        _dequantize = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<byte>, ArrayView<float>, ArrayView<float>>(DequantizeE4M3Kernel.Run);
        _refMatMul = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<byte>, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(ReferenceMatMulKernel.Run);
        _random = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<byte>, ulong, float, int>(RandomFillKernel.Run);
        _gatherKv = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, ArrayView<ushort>, ArrayView<ushort>, PrefillArgs>(GatherKvKernel.Run);
        _groupQueries = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<ushort>, PrefillArgs>(GroupQueriesKernel.Run);
        _causalSoftmax = accelerator.LoadKernel<ArrayView<float>, ArrayView<ushort>, ArrayView<float>, PrefillArgs>(CausalSoftmaxKernel.Run);
        _ungroup = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PrefillArgs>(UngroupOutputKernel.Run);
        _batchedRef = accelerator.LoadAutoGroupedKernel<Index3D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, BatchedMatMulArgs>(BatchedReferenceMatMulKernel.Run);
        WarpSize = accelerator.WarpSize;
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The stream every launch is queued on (a created, capturable stream on CUDA).</summary>
    public AcceleratorStream Stream { get; }

    /// <summary>Threads per group of the reduction kernels.</summary>
    public int GroupSize { get; }

    /// <summary>Threads per group of the attention kernels.</summary>
    public int AttentionGroupSize { get; }

    /// <summary>Threads per warp of the accelerator.</summary>
    public int WarpSize { get; }

    /// <summary>y[r] = RMSNorm(x[map(r)])·w for r &lt; rows (see <see cref="RmsNormKernel"/>); rowMap null: identity.</summary>
    public void RmsNorm(ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, int rows, int dim, float eps, ArrayView<int>? rowMap = null)
    {
        if (rows <= 0) return;
        Norm(x, w, null, 0, y, default, default, default, rows, dim, eps, rowMap);
    }

    /// <summary>
    /// The general RMSNorm launch (see <see cref="RmsNormKernel"/>): optional fused residual add (not with a row map),
    /// output mode 0 F32 (y), 1 BF16 (yBf16), 2 FP8 E4M3 codes (yFp8) with the per-tensor scale in scale[0] (one row).
    /// </summary>
    internal void Norm(ArrayView<float> x, ArrayView<float> w, ArrayView<float>? residual, int outMode, ArrayView<float> y, ArrayView<ushort> yBf16,
        ArrayView<byte> yFp8, ArrayView<float> scale, int rows, int dim, float eps, ArrayView<int>? rowMap, ArrayView<int>? amaxBits = null)
    {
        if (rows <= 0) return;
        if (residual is not null && rowMap is not null) throw new ArgumentException("the fused residual add covers every row: no row map with it", nameof(rowMap));
        if (outMode == 2 && rows != 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "FP8 output with a per-tensor scale takes one row");
        if (amaxBits is not null && outMode != 0) throw new ArgumentException("the amax of the output goes with F32 output only", nameof(amaxBits));
        var a = new NormArgs
        {
            Dim = dim, Eps = eps, UseMap = rowMap is null ? 0 : 1, AddResidual = residual is null ? 0 : 1, OutMode = outMode, AmaxOut = amaxBits is null ? 0 : 1,
        };
        if (amaxBits is { } am) am.SubView(0, 1).MemSetToZero(Stream);
        _rms(Stream, new KernelConfig(rows, GroupSize), x, w, residual ?? x, outMode == 0 ? y : x, outMode == 1 ? yBf16 : x.Cast<ushort>(),
            outMode == 2 ? yFp8 : x.Cast<byte>(), outMode == 2 ? scale : x, rowMap ?? x.Cast<int>(), amaxBits ?? x.Cast<int>(), a);
    }

    /// <summary>
    /// RoPE of the queries in place plus RoPE of the keys and the K/V write into the paged cache, in one launch (see
    /// <see cref="RopeKvWriteKernel"/>); the keys in qkv stay unrotated.
    /// </summary>
    internal void RopeKvWrite(ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> slots, ArrayView<float> c, ArrayView<float> s,
        ArrayView<ushort> kCache, ArrayView<ushort> vCache, int tokens, RopeKvArgs a)
    {
        if (tokens > 0) _ropeKv(Stream, new Index2D(a.Heads * (a.Rot / 2) + a.KvDim, tokens), qkv, positions, slots, c, s, kCache, vCache, a);
    }

    /// <summary><see cref="RmsNorm"/> with a BF16 result in y [rows, dim], ready for a BF16 matrix product.</summary>
    public void RmsNormToBf16(ArrayView<float> x, ArrayView<float> w, ArrayView<ushort> y, int rows, int dim, float eps, ArrayView<int>? rowMap = null)
    {
        Norm(x, w, null, 1, default, y, default, default, rows, dim, eps, rowMap);
    }

    /// <summary>RoPE in place on nHeads heads at column colOffset of each of the tokens' rows (see <see cref="RopeKernel"/>).</summary>
    public void Rope(ArrayView<float> x, ArrayView<int> positions, ArrayView<float> c, ArrayView<float> s, int tokens, int rowStride,
        int colOffset, int nHeads, int headDim, int nRot, bool neox)
    {
        if (tokens <= 0) return;
        _rope(Stream, new Index2D(nHeads * (nRot / 2), tokens), x, positions, c, s, rowStride, colOffset, headDim, nRot, neox ? 1 : 0);
    }

    /// <summary>K/V of the tokens' rows into their cache slots (see <see cref="KvWriteKernel"/>).</summary>
    public void KvWrite(ArrayView<float> qkv, ArrayView<int> slots, ArrayView<ushort> kCache, ArrayView<ushort> vCache, int tokens,
        int rowStride, int kOffset, int vOffset, int kvDim, long layerOffset)
    {
        if (tokens <= 0) return;
        _kvWrite(Stream, new Index2D(kvDim, tokens), qkv, slots, kCache, vCache, rowStride, kOffset, vOffset, kvDim, layerOffset);
    }

    /// <summary>Context splits for positions below <paramref name="positions"/> (see <see cref="PagedAttentionKernel"/>).</summary>
    internal static int AttentionSplits(int positions, int splitSize = PagedAttentionKernel.SplitPositions) =>
        Math.Max(1, (positions + splitSize - 1) / splitSize);

    /// <summary>Scratch floats <see cref="Attention"/> needs for <paramref name="tokens"/> tokens.</summary>
    internal static long AttentionScratchFloats(int tokens, AttentionArgs args) =>
        (long)tokens * args.Heads * (args.Splits > 0 ? args.Splits : AttentionSplits(args.MaxPositions, SplitSize(args))) * (args.HeadDim + 2);

    private static int SplitSize(AttentionArgs args) =>
        args.SplitSize is > 0 and <= PagedAttentionKernel.SplitPositions ? args.SplitSize : PagedAttentionKernel.SplitPositions;

    /// <summary>
    /// Attention of tokens·Heads rows (see <see cref="PagedAttentionKernel"/>): per-split records into
    /// <paramref name="scratch"/> (at least <see cref="AttentionScratchFloats"/>), then merged into output.
    /// args.Splits 0 takes enough splits for args.MaxPositions.
    /// </summary>
    internal void Attention(ArrayView<float> qkv, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<int> tokenSeq, ArrayView<int> positions, ArrayView<float> scratch, ArrayView<float> output, int tokens, AttentionArgs args)
    {
        if (tokens <= 0) return;
        args = LaunchAttentionSplits(qkv, kCache, vCache, blockTables, tokenSeq, positions, scratch, tokens, args);
        _attentionCombine(Stream, new KernelConfig(tokens * args.Heads, AttentionGroupSize), scratch, output, args);
    }

    private AttentionArgs LaunchAttentionSplits(ArrayView<float> qkv, ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables,
        ArrayView<int> tokenSeq, ArrayView<int> positions, ArrayView<float> scratch, int tokens, AttentionArgs args)
    {
        if (AttentionGroupSize / WarpSize > 32) throw new InvalidOperationException($"{AttentionGroupSize / WarpSize} warps per attention group exceed 32");
        args.SplitSize = SplitSize(args);
        if (args.Splits <= 0) args.Splits = AttentionSplits(args.MaxPositions, args.SplitSize);
        long need = AttentionScratchFloats(tokens, args);
        if (scratch.Length < need) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, {need} are needed", nameof(scratch));
        if (args.HeadDim > MaxHeadDim) throw new ArgumentOutOfRangeException(nameof(args), $"head dim {args.HeadDim} exceeds {MaxHeadDim}");
        if (AttentionGroupSize / WarpSize * args.HeadDim > PagedAttentionKernel.AccumulatorFloats)
            throw new ArgumentOutOfRangeException(nameof(args), $"head dim {args.HeadDim} × {AttentionGroupSize / WarpSize} warps exceeds the kernel's shared accumulator");
        _attention(Stream, new KernelConfig(tokens * args.Heads * args.Splits, AttentionGroupSize), qkv, kCache, vCache, blockTables, tokenSeq, positions, scratch, args);
        return args;
    }

    /// <summary>y[t, j] = silu(gu[t, j])·gu[t, ffn + j] for tokens·ffn elements.</summary>
    public void SwiGlu(ArrayView<float> gu, ArrayView<float> y, int tokens, int ffn)
    {
        if (tokens > 0) _swiglu(Stream, new Index2D(ffn, tokens), gu, y, ffn);
    }

    /// <summary><see cref="SwiGlu"/> with a BF16 result, ready for a BF16 matrix product.</summary>
    public void SwiGluToBf16(ArrayView<float> gu, ArrayView<ushort> y, int tokens, int ffn)
    {
        if (tokens > 0) _swigluBf16(Stream, new Index2D(ffn, tokens), gu, y, ffn);
    }

    /// <summary>Threads per group of <see cref="Fp8Gemv"/>.</summary>
    private int GemvGroupSize => Math.Max(WarpSize, Math.Min(GroupSize, 128));

    /// <summary>Whether <see cref="Fp8Gemv"/> takes <paramref name="w"/> (FP8 E4M3, columns a multiple of 8).</summary>
    public static bool Fp8GemvFits(DeviceMatrix w) => w is { Format: DeviceFormat.Fp8E4M3 } && w.Cols % 8 == 0;

    /// <summary>
    /// y [w.Rows] = w · x for one F32 activation row x [w.Cols] with FP8 weights (see <see cref="Fp8GemvKernel"/>): the
    /// weights' per-tensor scale is applied, per-channel scales are not.
    /// </summary>
    public void Fp8Gemv(DeviceMatrix w, ArrayView<float> x, ArrayView<float> y)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (!Fp8GemvFits(w)) throw new ArgumentException($"the FP8 GEMV needs FP8 E4M3 weights with a multiple of 8 columns, not {w.Format} × {w.Cols}", nameof(w));
        if (x.Length < w.Cols || y.Length < w.Rows) throw new ArgumentException($"x holds {x.Length} of {w.Cols} floats or y {y.Length} of {w.Rows}");
        int rowsPerGroup = GemvGroupSize / WarpSize * Fp8GemvKernel.RowsPerWarp;
        _fp8Gemv(Stream, new KernelConfig((w.Rows + rowsPerGroup - 1) / rowsPerGroup, GemvGroupSize), ((ArrayView<byte>)w.Data.View).Cast<ulong>(), x,
            w.Scale.View, y, w.Rows, w.Cols);
    }

    /// <summary>
    /// <see cref="SwiGlu"/> that also leaves max |y| over the whole output in amaxBits[0] (zeroed here; see
    /// <see cref="SwiGluAmaxKernel"/>), for <see cref="QuantizeE4M3Raw"/> without a separate amax pass.
    /// </summary>
    public void SwiGluWithAmax(ArrayView<float> gu, ArrayView<float> y, ArrayView<int> amaxBits, int tokens, int ffn)
    {
        if (tokens <= 0) return;
        amaxBits.SubView(0, 1).MemSetToZero(Stream);
        _swigluAmax(Stream, new KernelConfig(Math.Min(tokens, 65535), GroupSize), gu, y, amaxBits, tokens, ffn);
    }

    /// <summary>x[i] += y[i] for i &lt; count.</summary>
    public void Add(ArrayView<float> x, ArrayView<float> y, int count)
    {
        if (count > 0) _add(Stream, count, x, y);
    }

    /// <summary>Adds bias [width] to columns [offset, offset + width) of each of rows rows of stride rowStride.</summary>
    public void BiasAdd(ArrayView<float> x, ArrayView<float> bias, int rows, int width, int rowStride, int offset)
    {
        if (rows > 0) _bias(Stream, new Index2D(width, rows), x, bias, rowStride, offset);
    }

    /// <summary>y[r, j] ·= scale[j] over rows·n elements.</summary>
    public void ChannelScale(ArrayView<float> y, ArrayView<float> scale, int rows, int n)
    {
        if (rows > 0) _channelScale(Stream, rows * n, y, scale, n);
    }

    /// <summary>x[t] = table[tokens[t]]·scale for tokens rows of dim.</summary>
    public void Embedding(ArrayView<ushort> table, ArrayView<int> tokens, ArrayView<float> x, int count, int dim, float scale)
    {
        if (count > 0) _embedding(Stream, count * dim, table, tokens, x, dim, scale);
    }

    /// <summary>result[r] = argmax of row r of x [rows, n].</summary>
    public void Argmax(ArrayView<float> x, ArrayView<int> result, int rows, int n)
    {
        if (rows > 0) _argmax(Stream, new KernelConfig(rows, GroupSize), x, result, n);
    }

    /// <summary>BF16 of count floats.</summary>
    public void ToBf16(ArrayView<float> src, ArrayView<ushort> dst, int count)
    {
        if (count > 0) _toBf16(Stream, count, src, dst);
    }

    /// <summary>F32 of count BF16 values.</summary>
    public void FromBf16(ArrayView<ushort> src, ArrayView<float> dst, int count)
    {
        if (count > 0) _fromBf16(Stream, count, src, dst);
    }

    /// <summary>
    /// Per-tensor FP8 E4M3 quantization of count floats: amax into amaxBits[0] (zeroed here), then codes into dst and the
    /// scale (amax/448) into scale[0].
    /// </summary>
    public void QuantizeE4M3(ArrayView<float> src, ArrayView<byte> dst, ArrayView<int> amaxBits, ArrayView<float> scale, int count)
    {
        if (count <= 0) return;
        if (count <= SmallQuantizeCount)
        {
            _quantizeSmall(Stream, new KernelConfig(1, GroupSize), src, dst, scale, count);
            return;
        }
        amaxBits.SubView(0, 1).MemSetToZero(Stream);
        int groups = (int)Math.Clamp((count + (long)GroupSize - 1) / GroupSize, 1, 1024);
        _absMax(Stream, new KernelConfig(groups, GroupSize), src, amaxBits, count);
        _quantize(Stream, count, src, amaxBits, dst, scale);
    }

    /// <summary>Largest buffer quantized by one group in one launch (decode-sized activations).</summary>
    public const int SmallQuantizeCount = 1 << 16;

    /// <summary>Quantization with an amax already in amaxBits[0] (bit pattern of a non-negative float).</summary>
    public void QuantizeE4M3Raw(ArrayView<float> src, ArrayView<int> amaxBits, ArrayView<byte> dst, ArrayView<float> scale, int count)
    {
        if (count > 0) _quantize(Stream, count, src, amaxBits, dst, scale);
    }

    /// <summary>dst = decode(src)·scale[0] for count elements.</summary>
    public void DequantizeE4M3(ArrayView<byte> src, ArrayView<float> scale, ArrayView<float> dst, int count)
    {
        if (count > 0) _dequantize(Stream, count, src, scale, dst);
    }

    /// <summary>y [m, n] = x [m, k] · w [n, k]ᵀ · sx · sw with the plain kernel (see <see cref="ReferenceMatMulKernel"/>).</summary>
    public void ReferenceMatMul(ArrayView<byte> x, ArrayView<byte> w, ArrayView<float> xScale, ArrayView<float> wScale, ArrayView<float> y,
        int m, int n, int k, DeviceFormat format)
    {
        if (m > 0) _refMatMul(Stream, new Index2D(m, n), x, w, xScale, wScale, y, n, k, (int)format);
    }

    /// <summary>Keys and transposed values of one sequence from the paged cache (see <see cref="GatherKvKernel"/>).</summary>
    internal void GatherKv(ArrayView<ushort> kCache, ArrayView<ushort> vCache, ArrayView<int> blockTables, ArrayView<ushort> keys,
        ArrayView<ushort> valuesT, PrefillArgs a)
    {
        if (a.Padded > 0) _gatherKv(Stream, new Index2D(a.KvHeads * a.HeadDim, a.Padded), kCache, vCache, blockTables, keys, valuesT, a);
    }

    /// <summary>Queries of the chunk grouped per KV head in BF16 (see <see cref="GroupQueriesKernel"/>).</summary>
    internal void GroupQueries(ArrayView<float> qkv, ArrayView<ushort> q, PrefillArgs a)
    {
        if (a.Tokens > 0) _groupQueries(Stream, new Index2D(a.Heads * a.HeadDim, a.Tokens), qkv, q, a);
    }

    /// <summary>
    /// Scaled, masked softmax of the score rows into unnormalized BF16 probabilities and each row's 1/Σ into invSum
    /// [Tokens·Heads] (see <see cref="CausalSoftmaxKernel"/>).
    /// </summary>
    internal void CausalSoftmax(ArrayView<float> scores, ArrayView<ushort> probs, ArrayView<float> invSum, PrefillArgs a)
    {
        if (a.Tokens <= 0) return;
        int rowsPerGroup = AttentionGroupSize / WarpSize;   // one warp per row
        _causalSoftmax(Stream, new KernelConfig((a.Tokens * a.Heads + rowsPerGroup - 1) / rowsPerGroup, AttentionGroupSize), scores, probs, invSum, a);
    }

    /// <summary>Grouped attention output, each row scaled by invSum, back to token rows (see <see cref="UngroupOutputKernel"/>).</summary>
    internal void UngroupOutput(ArrayView<float> o, ArrayView<float> invSum, ArrayView<float> output, PrefillArgs a)
    {
        if (a.Tokens > 0) _ungroup(Stream, new Index2D(a.Heads * a.HeadDim, a.Tokens), o, invSum, output, a);
    }

    /// <summary>Strided batched BF16 product with the plain kernel (see <see cref="BatchedReferenceMatMulKernel"/>).</summary>
    internal void BatchedReferenceMatMul(ArrayView<ushort> x, ArrayView<ushort> w, ArrayView<float> y, int m, int n, int batch, BatchedMatMulArgs a)
    {
        if (m > 0 && n > 0 && batch > 0) _batchedRef(Stream, new Index3D(batch, m, n), x, w, y, a);
    }

    /// <summary>Fills count elements of dst with uniform random weights (see <see cref="RandomFillKernel"/>).</summary>
    public void RandomFill(ArrayView<byte> dst, long count, ulong seed, float amplitude, DeviceFormat format)
    {
        if (count <= 0) return;
        if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), "fill at most 2^31 − 1 elements per call");
        _random(Stream, (int)count, dst, seed, amplitude, (int)format);
    }
}
