using System.Runtime.InteropServices;
using Quanta.Core.Formats;
using Quanta.Core.Kernels;

namespace Quanta.Models.Weights;

/// <summary>
/// A weight matrix [Rows, Cols] stored row by row in a <see cref="WeightFormat"/>, exactly as the matrix kernels read
/// it: Rows = output dim, Cols = input dim, row r at byte r·RowBytes. (A GGUF tensor with ne0 = Cols and ne1 = Rows is
/// this layout unchanged.)
/// <para>Memory: either a view into memory someone else owns (a memory-mapped model file: zero-copy; the owner is kept
/// referenced and must not be disposed while the matrix is used) or native memory this object allocated and frees on
/// <see cref="Dispose"/> (converted weights). Immutable after loading; safe for concurrent reads.</para>
/// </summary>
public sealed class WeightMatrix : IDisposable
{
    private nint _address;
    private readonly bool _owned;
    private readonly object? _owner;

    private WeightMatrix(WeightFormat format, int rows, int cols, nint address, bool owned, object? owner)
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
        _address = address;
        _owned = owned;
        _owner = owner;
    }

    /// <summary>
    /// A matrix over <paramref name="data"/> (at least Rows·RowBytes bytes of memory that never moves, e.g. a mapped
    /// file owned by <paramref name="owner"/>); nothing is copied.
    /// </summary>
    public static WeightMatrix View(WeightFormat format, int rows, int cols, ReadOnlySpan<byte> data, object? owner)
    {
        var m = new WeightMatrix(format, rows, cols, NativeAddress.Of(data), owned: false, owner);
        if (data.Length < m.ByteCount) throw new ArgumentException($"data holds {data.Length} bytes, the matrix needs {m.ByteCount}", nameof(data));
        return m;
    }

    /// <summary>A matrix over memory at <paramref name="address"/> that <paramref name="owner"/> keeps alive (for tensors over 2 GiB).</summary>
    internal static WeightMatrix View(WeightFormat format, int rows, int cols, nint address, object? owner) =>
        new(format, rows, cols, address, owned: false, owner);

    /// <summary>A matrix over newly allocated native memory (uninitialized), freed by <see cref="Dispose"/>.</summary>
    public static WeightMatrix Allocate(WeightFormat format, int rows, int cols)
    {
        var m = new WeightMatrix(format, rows, cols, 0, owned: true, null);
        m._address = Marshal.AllocHGlobal((nint)m.ByteCount);
        return m;
    }

    /// <summary>A matrix in <paramref name="format"/> quantized from F32 rows ([rows, cols] row-major) with the format's codec.</summary>
    public static WeightMatrix FromFloats(WeightFormat format, int rows, int cols, ReadOnlySpan<float> values)
    {
        if (values.Length < (long)rows * cols) throw new ArgumentException("values is shorter than rows·cols", nameof(values));
        var m = Allocate(format, rows, cols);
        for (int r = 0; r < rows; r++)
            m.Codec.Quantize(values.Slice(r * cols, cols), NativeAddress.WritableSpan<byte>(m._address + (nint)(r * m.RowBytes), (int)m.RowBytes));
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
        ObjectDisposedException.ThrowIf(_address == 0, this);
        return NativeAddress.Span<byte>(_address + (nint)(row * RowBytes), (int)RowBytes);
    }

    /// <summary>Row <paramref name="row"/> as F32 into <paramref name="destination"/> ([Cols]); never allocates.</summary>
    public void DequantizeRow(int row, Span<float> destination) => Codec.Dequantize(Row(row), destination[..Cols]);

    /// <summary>Frees owned memory; views only become unusable.</summary>
    public void Dispose()
    {
        if (_address != 0 && _owned) Marshal.FreeHGlobal(_address);
        _address = 0;
    }
}
