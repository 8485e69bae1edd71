using System.Runtime.InteropServices;
using Quanta.Core.Simd;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// One OCP FP8 E5M2 value (OCP 8-bit Floating Point Specification, OFP8 v1.0): 1 sign bit, 5 exponent bits
/// (bias 15), 2 mantissa bits, IEEE 754 conventions: exponent 0 encodes subnormals m * 2^-16 (and +-0),
/// S.11111.00 is +-inf, S.11111.{01,10,11} are NaNs; the largest finite value is S.11110.11 = +-57344.
/// Encoding from F32 rounds to nearest, ties to even, and by default saturates: finite values rounding beyond
/// +-57344 and +-inf become +-57344; with <c>saturate: false</c> they become +-inf (IEEE behaviour). NaN input
/// becomes the quiet NaN S.11111.10 with the input's sign. Size: 1 byte.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly struct Fp8E5M2 : IEquatable<Fp8E5M2>
{
    /// <summary>Largest finite magnitude, 1.75 * 2^15.</summary>
    public const float MaxValue = 57344f;
    /// <summary>Exponent bias.</summary>
    public const int ExponentBias = 15;
    /// <summary>Code of +57344 (S.11110.11 with S = 0).</summary>
    public const byte MaxFiniteBits = 0x7B;
    /// <summary>Code of +inf.</summary>
    public const byte InfinityBits = 0x7C;
    /// <summary>Code of the positive quiet NaN the encoder writes.</summary>
    public const byte NaNBits = 0x7E;
    /// <summary>Kernel name recorded in <see cref="KernelPaths"/> by <see cref="DecodeRow"/>.</summary>
    public const string DecodeRowName = "fp8e5m2->f32";

    private static readonly float[] s_decode = BuildTable();

    /// <summary>Creates the value whose encoding is <paramref name="bits"/>.</summary>
    public Fp8E5M2(byte bits) => Bits = bits;

    /// <summary>The raw 8-bit encoding.</summary>
    public byte Bits { get; }

    /// <summary>True for the six NaN codes.</summary>
    public bool IsNaN => (Bits & 0x7F) > InfinityBits;

    /// <summary>True for +-inf.</summary>
    public bool IsInfinity => (Bits & 0x7F) == InfinityBits;

    /// <summary>The exact F32 value (see <see cref="Decode"/>).</summary>
    public float ToSingle() => s_decode[Bits];

    /// <summary>Nearest E5M2 value to <paramref name="value"/> (see <see cref="Encode"/>).</summary>
    public static Fp8E5M2 FromSingle(float value, bool saturate = true) => new(Encode(value, saturate));

    /// <summary>Scalar reference decode through a 256-entry table built from the bit fields. NaN codes keep
    /// sign and payload: sign | 0x7F800000 | m &lt;&lt; 21 | 0x00400000 (the F16 -> F32 rule applied to bits &lt;&lt; 8).</summary>
    public static float Decode(byte bits) => s_decode[bits];

    /// <summary>
    /// Scalar reference encode: round to nearest even; subnormals kept; |x| rounding above 57344 and +-inf
    /// give +-57344 when <paramref name="saturate"/>, else +-inf; NaN gives NaN (S.11111.10).
    /// </summary>
    public static byte Encode(float value, bool saturate = true) =>
        Fp8Rows.Encode(value, saturate, 2, ExponentBias, MaxFiniteBits, InfinityBits, NaNBits);

    private static float[] BuildTable()
    {
        var t = new float[256];
        for (int b = 0; b < 256; b++)
        {
            int e = (b >> 2) & 0x1F, m = b & 3;
            float v;
            if (e == 0x1F) v = BitConverter.UInt32BitsToSingle(0x7F800000u | ((uint)m << 21) | (m != 0 ? 0x00400000u : 0u));
            else if (e == 0) v = (float)Math.ScaleB(m, -16);
            else v = (float)Math.ScaleB(4 + m, e - ExponentBias - 2);
            t[b] = (b & 0x80) != 0 ? -v : v;
        }
        return t;
    }

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Encode(<paramref name="src"/>[i] / <paramref name="scale"/>).</summary>
    public static void EncodeRow(ReadOnlySpan<float> src, float scale, Span<byte> dst, bool saturate = true) =>
        Fp8Rows.EncodeRow<E5M2Traits>(src, scale, dst, saturate);

    /// <summary>Scalar reference: <paramref name="dst"/>[i] = Decode(<paramref name="src"/>[i]) * <paramref name="scale"/>.</summary>
    public static void DecodeRowReference(ReadOnlySpan<byte> src, float scale, Span<float> dst) =>
        Fp8Rows.DecodeRowReference<E5M2Traits>(src, scale, dst);

    /// <summary>Vectorized <see cref="DecodeRowReference"/>, bit-identical to it (decoding is exact, then one
    /// F32 multiply by <paramref name="scale"/>).</summary>
    public static void DecodeRow(ReadOnlySpan<byte> src, float scale, Span<float> dst) =>
        Fp8Rows.DecodeRow<E5M2Traits>(src, scale, dst, DecodeRowName);

    /// <inheritdoc/>
    public bool Equals(Fp8E5M2 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Fp8E5M2 o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Encoding equality (so +0 != -0 and NaN == the same NaN code).</summary>
    public static bool operator ==(Fp8E5M2 left, Fp8E5M2 right) => left.Equals(right);

    /// <summary>Encoding inequality.</summary>
    public static bool operator !=(Fp8E5M2 left, Fp8E5M2 right) => !left.Equals(right);
}
