using Quanta.Core.Formats;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Shared body of the K-quant dot kernels (<see cref="VecDotQ2_K"/> .. <see cref="VecDotQ6_K"/>): 256-element
/// super-blocks x Q8_K activations (<see cref="Q8KActivation"/>). <see cref="Dot"/> records the SIMD path
/// (<see cref="Q8KActivation.Path"/>) under <see cref="Name"/>, falls back to <see cref="DotReference"/> on the
/// scalar path, checks the row lengths (n a multiple of 256, spans long enough) and hands the pinned rows to the
/// format's super-block loop. Stateless, thread-safe, allocation-free.
/// </summary>
public abstract unsafe class KQuantVecDotKernel : IVecDotKernel
{
    private readonly GgmlType _type;
    private readonly int _blockBytes;

    private protected KQuantVecDotKernel(WeightFormat format, string name, GgmlType type, int blockBytes)
    {
        Format = format;
        Name = name;
        _type = type;
        _blockBytes = blockBytes;
    }

    /// <inheritdoc/>
    public WeightFormat Format { get; }
    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int BlockSize => 256;
    /// <inheritdoc/>
    public long WeightRowBytes(int n) => GgmlTypeInfo.RowBytes(_type, n);
    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => Q8KActivation.RowBytes(n);
    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst) => Q8KActivation.Quantize(x, dst);

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        SimdPath path = Q8KActivation.Path;
        KernelPaths.Record(Name, path);
        if (path == SimdPath.Scalar) return DotReference(weightRow, activation, n);
        int nb = Q8KActivation.CheckDot(n, weightRow.Length, _blockBytes, activation.Length);
        fixed (byte* wb = weightRow)
        fixed (byte* ab = activation)
            return DotBlocks(wb, ab, nb, path);
    }

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = Q8KActivation.CheckDot(n, weightRow.Length, _blockBytes, activation.Length);
        fixed (byte* wb = weightRow)
        fixed (byte* ab = activation)
            return ReferenceBlocks(wb, ab, nb);
    }

    /// <summary>
    /// y[r] = <see cref="Dot"/>(row r, activation) for r in [<paramref name="r0"/>, <paramref name="r1"/>): the same
    /// arithmetic, bit for bit, with the path chosen, recorded and the lengths checked once per call instead of once per
    /// row (the batch-1 matrix product). Row r at w + r·<paramref name="rowBytes"/> (<see cref="WeightRowBytes"/>(n)
    /// bytes), <paramref name="act"/>: one Q8_K row of n elements (n a multiple of 256, checked by the caller).
    /// </summary>
    internal void DotRows(byte* w, long rowBytes, int r0, int r1, byte* act, int n, float* y)
    {
        SimdPath path = Q8KActivation.Path;
        KernelPaths.Record(Name, path);
        int nb = n / 256;
        if (path == SimdPath.Scalar)
            for (int r = r0; r < r1; r++) y[r] = ReferenceBlocks(w + r * rowBytes, act, nb);
        else DotRowsSimd(w, rowBytes, r0, r1, act, nb, y, path);
    }

    /// <summary>The SIMD body of <see cref="DotRows"/> (<paramref name="nb"/> super-blocks per row, path never scalar):
    /// one <see cref="DotBlocks"/> per row unless a format computes several rows at once with the same arithmetic.</summary>
    private protected virtual void DotRowsSimd(byte* w, long rowBytes, int r0, int r1, byte* act, int nb, float* y, SimdPath path)
    {
        for (int r = r0; r < r1; r++) y[r] = DotBlocks(w + r * rowBytes, act, nb, path);
    }

    /// <summary>SIMD dot of <paramref name="nb"/> weight super-blocks at <paramref name="wb"/> with as many Q8_K
    /// blocks at <paramref name="ab"/> on <paramref name="path"/> (never scalar).</summary>
    private protected abstract float DotBlocks(byte* wb, byte* ab, int nb, SimdPath path);

    /// <summary>Scalar reference over <paramref name="nb"/> super-blocks (same float steps as <see cref="DotBlocks"/>).</summary>
    private protected abstract float ReferenceBlocks(byte* wb, byte* ab, int nb);
}
