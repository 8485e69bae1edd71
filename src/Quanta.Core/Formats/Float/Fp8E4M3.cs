using System.Runtime.InteropServices;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// One OCP FP8 E4M3 value (OCP 8-bit Floating Point Specification, OFP8 v1.0): 1 sign bit, 4 exponent bits
/// (bias 7), 3 mantissa bits. Exponent 0 encodes subnormals m * 2^-9 (and +-0); there are no infinities;
/// S.1111.111 is NaN (one per sign), so S.1111.110 = +-448 is the largest finite value and 2^-9 the smallest
/// subnormal. Encoding from F32 rounds to nearest, ties to even, and by default saturates: finite values and
/// infinities beyond +-448 become +-448; with <c>saturate: false</c> they become NaN (as the spec's
/// non-saturating mode does for E4M3). NaN input becomes NaN with the input's sign. Size: 1 byte.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly struct Fp8E4M3 : IEquatable<Fp8E4M3>
{
    /// <summary>Largest finite magnitude, 1.75 * 2^8.</summary>
    public const float MaxValue = 448f;
    /// <summary>Exponent bias.</summary>
    public const int ExponentBias = 7;
    /// <summary>Code of +448 (S.1111.110 with S = 0).</summary>
    public const byte MaxFiniteBits = 0x7E;
    /// <summary>Code of the positive NaN (0.1111.111); 0xFF is the negative one.</summary>
    public const byte NaNBits = 0x7F;
    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="DecodeRow"/>.</summary>
    public const string DecodeRowName = "fp8e4m3->f32";

    private static readonly float[] s_decode = BuildTable();

    /// <summary>Creates the value whose encoding is <paramref name="bits"/>.</summary>
    public Fp8E4M3(byte bits) => Bits = bits;

    /// <summary>The raw 8-bit encoding.</summary>
    public byte Bits { get; }

    /// <summary>True for the two NaN codes.</summary>
    public bool IsNaN => (Bits & 0x7F) == 0x7F;

    /// <summary>The exact F32 value (see <see cref="Decode"/>).</summary>
    public float ToSingle() => s_decode[Bits];

    /// <summary>Nearest E4M3 value to <paramref name="value"/> (see <see cref="Encode"/>).</summary>
    public static Fp8E4M3 FromSingle(float value, bool saturate = true) => new(Encode(value, saturate));

    /// <summary>Scalar reference decode through a 256-entry table built from the bit fields. NaN codes give
    /// the quiet F32 NaN sign | 0x7FC00000.</summary>
    public static float Decode(byte bits) => s_decode[bits];

    /// <summary>
    /// Scalar reference encode: round to nearest even; subnormals kept; |x| rounding above 448 (and +-inf)
    /// gives +-448 when <paramref name="saturate"/>, else NaN; NaN gives NaN with the input's sign.
    /// </summary>
    public static byte Encode(float value, bool saturate = true) =>
        Fp8Rows.Encode(value, saturate, 3, ExponentBias, MaxFiniteBits, NaNBits, NaNBits);

    private static float[] BuildTable()
    {
        var t = new float[256];
        for (int b = 0; b < 256; b++)
        {
            int e = (b >> 3) & 0xF, m = b & 7;
            float v;
            if (e == 0xF && m == 7) v = BitConverter.UInt32BitsToSingle(0x7FC00000u);
            else if (e == 0) v = (float)Math.ScaleB(m, -9);
            else v = (float)Math.ScaleB(8 + m, e - ExponentBias - 3);
            t[b] = (b & 0x80) != 0 ? -v : v;
        }
        return t;
    }

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Encode(<paramref name="src"/>[i] / <paramref name="scale"/>).</summary>
    public static void EncodeRow(ReadOnlySpan<float> src, float scale, Span<byte> dst, bool saturate = true) =>
        Fp8Rows.EncodeRow<E4M3Traits>(src, scale, dst, saturate);

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Decode(<paramref name="src"/>[i]) * <paramref name="scale"/>.</summary>
    public static void DecodeRowReference(ReadOnlySpan<byte> src, float scale, Span<float> dst) =>
        Fp8Rows.DecodeRowReference<E4M3Traits>(src, scale, dst);

    /// <summary>Vectorized <see cref="DecodeRowReference"/>, bit-identical to it (decoding is exact, then one
    /// F32 multiply by <paramref name="scale"/>).</summary>
    public static void DecodeRow(ReadOnlySpan<byte> src, float scale, Span<float> dst) =>
        Fp8Rows.DecodeRow<E4M3Traits>(src, scale, dst, DecodeRowName);

    /// <inheritdoc/>
    public bool Equals(Fp8E4M3 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Fp8E4M3 o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Encoding equality (so +0 != -0 and NaN == the same NaN code).</summary>
    public static bool operator ==(Fp8E4M3 left, Fp8E4M3 right) => left.Equals(right);

    /// <summary>Encoding inequality.</summary>
    public static bool operator !=(Fp8E4M3 left, Fp8E4M3 right) => !left.Equals(right);
}
