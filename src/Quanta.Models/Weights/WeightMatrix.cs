using Quanta.Core.Formats;
using Quanta.Core.Kernels;
using Quanta.Core.Memory;
using Quanta.Core.Threading;

namespace Quanta.Models.Weights;

/// <summary>
/// A weight matrix [Rows, Cols] stored row by row in a <see cref="WeightFormat"/>, exactly as the matrix kernels read
/// it: Rows = output dim, Cols = input dim, row r at byte r·RowBytes. (A GGUF tensor with ne0 = Cols and ne1 = Rows is
/// this layout unchanged.)
/// <para>Memory: a <see cref="NativeRegion"/> + byte offset (no raw addresses: this project is compiled without unsafe
/// code): either a view into a region someone else owns (a memory-mapped model file's Region: zero-copy; the owner is
/// kept referenced and must not be disposed while the matrix is used) or a <see cref="NativeBuffer"/> this object
/// allocated and frees on <see cref="Dispose"/> (converted weights). Immutable after loading; safe for concurrent reads.</para>
/// </summary>
public sealed class WeightMatrix : IDisposable
{
    private readonly NativeRegion _region;
    private readonly long _offset;
    private readonly bool _owned;
    private readonly object? _owner;

    private WeightMatrix(WeightFormat format, int rows, int cols, NativeRegion? region, long offset, bool owned, object? owner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        Format = format;
        Rows = rows;
        Cols = cols;
        Kernel = KernelRegistry.VecDot(format);
        Codec = CodecRegistry.For(format);
        if (cols % Kernel.BlockSize != 0)
            throw new ArgumentException($"row length {cols} is not a multiple of the {format} block size {Kernel.BlockSize}");
        RowBytes = Kernel.WeightRowBytes(cols);
        if (RowBytes > int.MaxValue) throw new ArgumentException($"row of {cols} elements is too long");
        region ??= new NativeBuffer(RowBytes * rows);
        if (offset < 0 || offset > region.Length || ByteCount > region.Length - offset)
            throw new ArgumentException($"the matrix needs {ByteCount} bytes at offset {offset}, the region holds {region.Length}");
        _region = region;
        _offset = offset;
        _owned = owned;
        _owner = owner;
    }

    /// <summary>
    /// A matrix over bytes [<paramref name="offset"/>, offset + Rows·RowBytes) of <paramref name="region"/> (e.g. a mapped
    /// file's <c>Region</c>; matrices over 2 GiB work); nothing is copied. <paramref name="owner"/> (the file object) is
    /// kept referenced and must not be disposed while the matrix is used.
    /// </summary>
    public static WeightMatrix View(WeightFormat format, int rows, int cols, NativeRegion region, long offset, object? owner)
    {
        ArgumentNullException.ThrowIfNull(region);
        return new WeightMatrix(format, rows, cols, region, offset, owned: false, owner);
    }

    /// <summary>
    /// A matrix over <paramref name="data"/>, which must lie inside <paramref name="region"/> (e.g. a tensor's data span
    /// from the file that owns the region); nothing is copied. See the region/offset overload.
    /// </summary>
    public static WeightMatrix View(WeightFormat format, int rows, int cols, NativeRegion region, ReadOnlySpan<byte> data, object? owner)
    {
        ArgumentNullException.ThrowIfNull(region);
        var m = new WeightMatrix(format, rows, cols, region, region.OffsetOf(data), owned: false, owner);
        if (data.Length < m.ByteCount) throw new ArgumentException($"data holds {data.Length} bytes, the matrix needs {m.ByteCount}", nameof(data));
        return m;
    }

    /// <summary>
    /// Rows [<paramref name="firstRow"/>, <paramref name="firstRow"/> + <paramref name="rows"/>) of this matrix as a matrix
    /// of their own, viewing the same memory (nothing is copied). Only for a matrix that is itself a view: the slice must
    /// not outlive the region's owner, and an owned matrix's memory would be freed under it.
    /// </summary>
    public WeightMatrix RowsView(int firstRow, int rows)
    {
        if (_owned) throw new NotSupportedException("slicing a matrix that owns its memory would leave the slices without an owner");
        if (firstRow < 0 || rows <= 0 || (long)firstRow + rows > Rows)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{firstRow}, {firstRow + rows}) outside [0, {Rows})");
        return new WeightMatrix(Format, rows, Cols, _region, _offset + firstRow * RowBytes, owned: false, _owner);
    }

    /// <summary>A matrix over a newly allocated <see cref="NativeBuffer"/> (uninitialized; fill it with <see cref="WritableRow"/>), freed by <see cref="Dispose"/>.</summary>
    public static WeightMatrix Allocate(WeightFormat format, int rows, int cols) => new(format, rows, cols, null, 0, owned: true, null);

    /// <summary>A matrix in <paramref name="format"/> quantized from F32 rows ([rows, cols] row-major) with the format's codec.</summary>
    public static WeightMatrix FromFloats(WeightFormat format, int rows, int cols, ReadOnlySpan<float> values)
    {
        if (values.Length < (long)rows * cols) throw new ArgumentException("values is shorter than rows·cols", nameof(values));
        var m = Allocate(format, rows, cols);
        for (int r = 0; r < rows; r++)
            m.Codec.Quantize(values.Slice(r * cols, cols), m.WritableRow(r));
        return m;
    }

    /// <summary>Storage format of every row.</summary>
    public WeightFormat Format { get; }

    /// <summary>Output dimension (number of rows).</summary>
    public int Rows { get; }

    /// <summary>Input dimension (elements per row).</summary>
    public int Cols { get; }

    /// <summary>Bytes per stored row.</summary>
    public long RowBytes { get; }

    /// <summary>Total bytes.</summary>
    public long ByteCount => RowBytes * Rows;

    /// <summary>The dot kernel the matrix products use for this format.</summary>
    public IVecDotKernel Kernel { get; }

    /// <summary>The row codec (dequantization, e.g. for embedding lookup).</summary>
    public IRowCodec Codec { get; }

    /// <summary>True when this object frees its memory on dispose.</summary>
    public bool OwnsMemory => _owned;

    /// <summary>The object that owns viewed memory (e.g. the GGUF file), or null.</summary>
    public object? Owner => _owner;

    /// <summary>The stored bytes of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<byte> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"matrix has {Rows} rows");
        return _region.Read(_offset + row * RowBytes, (int)RowBytes);
    }

    /// <summary>Writable bytes of row <paramref name="row"/> of a matrix made by <see cref="Allocate"/> (loaders fill it once).</summary>
    public Span<byte> WritableRow(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"matrix has {Rows} rows");
        if (_region is not NativeBuffer buffer || !_owned) throw new InvalidOperationException("only allocated matrices are writable");
        return buffer.Write(_offset + row * RowBytes, (int)RowBytes);
    }

    /// <summary>All rows of a matrix made by <see cref="Allocate"/> as one writable span ([Rows][RowBytes]; at most 2 GiB).</summary>
    public Span<byte> WritableData()
    {
        if (_region is not NativeBuffer buffer || !_owned) throw new InvalidOperationException("only allocated matrices are writable");
        if (ByteCount > int.MaxValue) throw new InvalidOperationException($"matrix of {ByteCount} bytes is too large for one span; fill it with WritableRow");
        return buffer.Write(_offset, (int)ByteCount);
    }

    /// <summary>Row <paramref name="row"/> as F32 into <paramref name="destination"/> ([Cols]); never allocates.</summary>
    public void DequantizeRow(int row, Span<float> destination) => Codec.Dequantize(Row(row), destination[..Cols]);

    /// <summary>
    /// Y[m, Rows] = X[m, Cols] · Wᵀ with Core's parallel <see cref="MatMul"/> (bit-identical for any thread count and any
    /// m). x: [m, Cols] dense, y: [m, Rows] dense, scratch: at least <see cref="MatMul.ScratchBytes"/>(Kernel, m, Cols)
    /// bytes. When <paramref name="converted"/>, x's rows are already in the scratch (<see cref="ConvertActivationRow"/>
    /// of every row for this m) and x is not read. Never allocates.
    /// </summary>
    public void MatMul(ReadOnlySpan<float> x, int m, Span<float> y, Span<byte> scratch, WorkerPool pool, bool converted = false) =>
        Quanta.Core.Kernels.MatMul.Compute(Kernel, _region, _offset, Rows, Cols, x, m, y, scratch, pool, converted);

    /// <summary>
    /// Converts activation row <paramref name="row"/> of <paramref name="m"/> (x: [Cols]) into <paramref name="scratch"/>
    /// for a product of this matrix over m rows called with <c>converted: true</c> (<see cref="MatMul"/>, or as the first
    /// matrix of <see cref="MatMulShared"/> when <see cref="SharesConversion"/>, or the gate of
    /// <see cref="FeedForwardRows"/>): the bytes that product's own conversion writes
    /// (<see cref="Core.Kernels.MatMul.ConvertActivationRow"/>). Rows may be converted concurrently; the scratch must not
    /// move before the product (a pinned array).
    /// </summary>
    public void ConvertActivationRow(ReadOnlySpan<float> x, int row, int m, Span<byte> scratch) =>
        Quanta.Core.Kernels.MatMul.ConvertActivationRow(Kernel, Cols, m, row, x, scratch);

    /// <summary>Whether <see cref="MatMulShared"/> of these matrices over <paramref name="m"/> rows converts the
    /// activations once, so that they can be converted beforehand (<see cref="ConvertActivationRow"/> of
    /// <paramref name="a"/>).</summary>
    public static bool SharesConversion(WeightMatrix a, WeightMatrix b, WeightMatrix? c, int m)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Shares(a, b, m) && (c == null || Shares(a, c, m));
    }

    /// <summary>
    /// Products of up to three matrices with the same input x: ya = x · aᵀ, yb = x · bᵀ and, when <paramref name="c"/> is
    /// not null, yc = x · cᵀ (e.g. the Q, K and V projections). When the matrices share a column count and a format (or are all K-quants whose
    /// activation conversion is the same, e.g. a K-quant file's Q4_K Q and K with its Q6_K V) the
    /// activations are converted once and one pool loop runs over all their row tiles (<see cref="Core.Kernels.MatMul"/>'s
    /// fused overload); otherwise each runs its own
    /// <see cref="MatMul(ReadOnlySpan{float}, int, Span{float}, Span{byte}, WorkerPool)"/>. Either way each output has
    /// the bits of a separate call. x: [m, Cols] dense, yJ: [m, J.Rows] dense, scratch: at least
    /// <see cref="Core.Kernels.MatMul.ScratchBytes"/>(J.Kernel, m, Cols) bytes for every matrix J. When
    /// <paramref name="converted"/> (only where <see cref="SharesConversion"/>), x's rows are already in the scratch
    /// (<see cref="ConvertActivationRow"/> of a) and x is not read. Never allocates.
    /// </summary>
    public static void MatMulShared(ReadOnlySpan<float> x, int m, WeightMatrix a, Span<float> ya, WeightMatrix b, Span<float> yb,
        WeightMatrix? c, Span<float> yc, Span<byte> scratch, WorkerPool pool, bool converted = false)
    {
        bool fuse = SharesConversion(a, b, c, m);
        if (converted && !fuse) throw new ArgumentException("these matrices convert their activations each on its own: they cannot take converted rows", nameof(converted));
        if (!fuse)
        {
            a.MatMul(x, m, ya, scratch, pool);
            b.MatMul(x, m, yb, scratch, pool);
            c?.MatMul(x, m, yc, scratch, pool);
            return;
        }
        Quanta.Core.Kernels.MatMul.Compute(a.Kernel, b.Kernel, c?.Kernel ?? a.Kernel, a.Cols, x, m,
            a._region, a._offset, a.Rows, ya,
            b._region, b._offset, b.Rows, yb,
            c?._region, c?._offset ?? 0, c?.Rows ?? 0, c == null ? Span<float>.Empty : yc,
            scratch, pool, converted);
    }

    /// <summary>
    /// Whether <see cref="FeedForwardRows"/> serves these gate, up and down matrices for <paramref name="m"/> token rows:
    /// gate and up of one shape and format, down taking their rows as its columns, and formats with the fused path at
    /// that many rows (<see cref="Core.Kernels.MatMul.SupportsGated"/>: Q4_0/Q8_0 up to 16 rows, K-quants one).
    /// </summary>
    public static bool SupportsFeedForward(WeightMatrix gate, WeightMatrix up, WeightMatrix down, int m = 1)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(up);
        ArgumentNullException.ThrowIfNull(down);
        return up.Format == gate.Format && up.Rows == gate.Rows && up.Cols == gate.Cols && down.Cols == gate.Rows
            && Quanta.Core.Kernels.MatMul.SupportsGated(gate.Kernel, down.Kernel, gate.Rows, m);
    }

    /// <summary>Scratch bytes <see cref="FeedForwardRows"/> needs for these matrices and <paramref name="m"/> token rows.</summary>
    public static long FeedForwardRowsScratchBytes(WeightMatrix gate, WeightMatrix down, int m)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(down);
        return Quanta.Core.Kernels.MatMul.GatedScratchBytes(gate.Kernel, down.Kernel, m, gate.Cols, gate.Rows);
    }

    /// <summary>
    /// The gated feed-forward of m token rows (1 ≤ m ≤ <see cref="Core.Kernels.MatMul.GatedMaxRows"/>),
    /// y[m, down.Rows] = down · (act(gate · x) ⊙ (up · x)) with act SiLU or, when <paramref name="gelu"/>, tanh-GELU,
    /// with the bits of the separate steps (<see cref="MatMulShared"/> of gate and up, the activation over each row,
    /// <see cref="MatMul"/> of down) but each thread converting the hidden columns it computed
    /// (<see cref="Core.Kernels.MatMul.ComputeGated"/>).
    /// Requires <see cref="SupportsFeedForward"/> for m; x: [m, gate.Cols] dense; y: [m, down.Rows] dense; scratch: at
    /// least <see cref="FeedForwardRowsScratchBytes"/>. When <paramref name="converted"/>, x's rows are already in the
    /// scratch (<see cref="ConvertActivationRow"/> of gate) and x is not read. Never allocates.
    /// </summary>
    public static void FeedForwardRows(ReadOnlySpan<float> x, int m, WeightMatrix gate, WeightMatrix up, WeightMatrix down, bool gelu,
        Span<float> y, Span<byte> scratch, WorkerPool pool, bool converted = false)
    {
        if (!SupportsFeedForward(gate, up, down, m)) throw new ArgumentException($"no fused feed-forward for these matrices at {m} token rows");
        Quanta.Core.Kernels.MatMul.ComputeGated(gate.Kernel, down.Kernel, m, gate.Cols, gate.Rows, x,
            gate._region, gate._offset, up._region, up._offset, down._region, down._offset, down.Rows, gelu, y, scratch, pool, converted);
    }

    /// <summary>Whether b's product can share a's activation conversion and pool loop: same columns, and the same format
    /// or two K-quants (<see cref="Core.Kernels.MatMul.SharesActivation"/>).</summary>
    private static bool Shares(WeightMatrix a, WeightMatrix b, int m) =>
        b.Cols == a.Cols && (b.Format == a.Format || Quanta.Core.Kernels.MatMul.SharesActivation(a.Kernel, b.Kernel, m));

    /// <summary>Frees owned memory; views only become unusable when their owner is disposed.</summary>
    public void Dispose()
    {
        if (_owned) _region.Dispose();
    }
}
