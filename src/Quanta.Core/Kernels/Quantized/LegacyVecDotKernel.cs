using Quanta.Core.Formats;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// Shared body of the legacy GGUF dot kernels (<see cref="VecDotQ4_0Q8_0"/>, <see cref="VecDotQ4_1Q8_1"/>,
/// <see cref="VecDotQ5_0Q8_0"/>, <see cref="VecDotQ5_1Q8_1"/>, <see cref="VecDotQ8_0Q8_0"/>): 32-element blocks;
/// symmetric weight formats pair with Q8_0 activations (34-byte blocks, <see cref="Q8Activation.QuantizeQ8_0"/>),
/// offset formats (Q4_1, Q5_1) with Q8_1 activations (36-byte blocks, <see cref="Q8Activation.QuantizeQ8_1"/>).
/// The activation row is those ggml blocks followed by per-block float scales and code sums (layout in
/// <see cref="LegacyActivationLayout"/>; <see cref="ActivationRowBytes"/> counts both parts).
/// Row lengths are checked (n a multiple of 32, spans long enough) before any block is read.
/// Each derived kernel only names its format; the block loops live in one JIT-specialized generic body.
/// Stateless, thread-safe, allocation-free.
/// </summary>
public abstract unsafe class LegacyVecDotKernel : IVecDotKernel
{
    private readonly ILegacyBlockOps _blocks;
    private readonly int _activationBlockBytes;

    private protected LegacyVecDotKernel(ILegacyBlockOps blocks, WeightFormat format, string name)
    {
        _blocks = blocks;
        Format = format;
        Name = name;
        _activationBlockBytes = blocks.OffsetFormat ? BlockQ8_1.Bytes : BlockQ8_0.Bytes;
    }

    /// <inheritdoc/>
    public WeightFormat Format { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int BlockSize => 32;

    /// <inheritdoc/>
    public long WeightRowBytes(int n) => LegacyRows.RowBytes(n, _blocks.WeightBlockBytes);

    /// <inheritdoc/>
    public int ActivationRowBytes(int n) => checked((int)LegacyActivationLayout.RowBytes(n, _activationBlockBytes, _blocks.NibbleCodes));

    /// <inheritdoc/>
    public void QuantizeActivation(ReadOnlySpan<float> x, Span<byte> dst)
    {
        if (dst.Length < ActivationRowBytes(x.Length)) throw new ArgumentException($"destination holds {dst.Length} bytes, {ActivationRowBytes(x.Length)} needed", nameof(dst));
        if (_blocks.OffsetFormat) Q8Activation.QuantizeQ8_1(x, dst);
        else Q8Activation.QuantizeQ8_0(x, dst);
        LegacyActivationLayout.Complete(dst, x.Length / 32, _blocks.OffsetFormat, _blocks.NibbleCodes);
    }

    /// <summary>Appends the per-block arrays to an activation row whose leading ggml blocks (of <paramref name="n"/>
    /// elements) were written by other code, e.g. ggml itself; <paramref name="row"/> holds <see cref="ActivationRowBytes"/>(n).</summary>
    internal void CompleteActivation(Span<byte> row, int n) =>
        LegacyActivationLayout.Complete(row[..ActivationRowBytes(n)], n / 32, _blocks.OffsetFormat, _blocks.NibbleCodes);

    /// <inheritdoc/>
    public float Dot(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return _blocks.Dot(w, a, nb, Name);
    }

    /// <inheritdoc/>
    public float DotReference(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return _blocks.Reference(w, a, nb);
    }

    /// <summary>Runs one named SIMD path (tests cover every path on one machine); the path must be supported.</summary>
    internal float DotPath(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n, SimdPath path, bool portable128)
    {
        int nb = Check(weightRow, activation, n);
        fixed (byte* w = weightRow)
        fixed (byte* a = activation)
            return _blocks.DotPath(w, a, nb, path, portable128);
    }

    private int Check(ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation, int n)
    {
        int nb = LegacyRows.Blocks(n, weightRow.Length, _blocks.WeightBlockBytes);
        if (activation.Length < ActivationRowBytes(n))
            throw new ArgumentException($"activation row holds {activation.Length} bytes, {ActivationRowBytes(n)} needed for {n} elements");
        return nb;
    }
}

/// <summary>Row-of-blocks entry points of <see cref="LegacyDot{TW}"/> and <see cref="LegacyRows"/> behind one non-generic interface, so that
/// <see cref="LegacyVecDotKernel"/> and <see cref="LegacyRowCodec"/> need no per-format code (one interface call per row; the block loops are
/// specialized per <c>TW</c>).</summary>
internal unsafe interface ILegacyBlockOps
{
    /// <summary>Bytes per weight block.</summary>
    int WeightBlockBytes { get; }

    /// <summary>True for offset formats (value = q*d + m, Q8_1 activations).</summary>
    bool OffsetFormat { get; }

    /// <summary>True when the activation row carries nibble-order codes (<see cref="LegacyActivationLayout"/>): 4/5-bit weights.</summary>
    bool NibbleCodes { get; }

    /// <inheritdoc cref="LegacyDot{TW}.Dot"/>
    float Dot(byte* w, byte* a, int nb, string name);

    /// <inheritdoc cref="LegacyDot{TW}.Reference"/>
    float Reference(byte* w, byte* a, int nb);

    /// <inheritdoc cref="LegacyDot{TW}.DotPath"/>
    float DotPath(byte* w, byte* a, int nb, SimdPath path, bool portable128);

    /// <summary>Row dequantization (<see cref="LegacyRows.Dequantize{TW}"/>).</summary>
    void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, bool reference);
}

/// <summary><see cref="ILegacyBlockOps"/> for weight block <typeparamref name="TW"/>.</summary>
internal sealed unsafe class LegacyBlockOps<TW> : ILegacyBlockOps where TW : struct, ILegacyWeightBlock
{
    /// <summary>The shared instance.</summary>
    public static LegacyBlockOps<TW> Instance { get; } = new();

    public int WeightBlockBytes => TW.Bytes;
    public bool OffsetFormat => TW.HasMin;
    public bool NibbleCodes => !TW.SignedQuad;
    public float Dot(byte* w, byte* a, int nb, string name) => LegacyDot<TW>.Dot(w, a, nb, name);
    public float Reference(byte* w, byte* a, int nb) => LegacyDot<TW>.Reference(w, a, nb);
    public float DotPath(byte* w, byte* a, int nb, SimdPath path, bool portable128) => LegacyDot<TW>.DotPath(w, a, nb, path, portable128);
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, bool reference) => LegacyRows.Dequantize<TW>(src, dst, reference);
}
