using System.Runtime.Intrinsics;

namespace Quanta.Core.Formats.Float;

/// <summary>
/// Compile-time description of one FP8 format, used as a struct type argument so that the shared row decoders
/// (<see cref="Fp8Rows"/>) and vec-dot loops are specialized per format by the JIT (static calls on a struct
/// type argument are resolved and inlined, so the generic code runs as fast as a hand-copied one).
/// </summary>
internal interface IFp8Format
{
    /// <summary>Bits that are all set in exactly the inf/NaN codes (after clearing the sign): a chunk whose
    /// codes never satisfy <c>(code &amp; SpecialMask) == SpecialMask</c> may use the "Finite" decoders.</summary>
    static abstract byte SpecialMask { get; }

    /// <summary>Exact scalar decode (the format's reference table).</summary>
    static abstract float Decode(byte bits);

    /// <summary>Scalar reference encode (round to nearest even, the format's overflow rule).</summary>
    static abstract byte Encode(float value, bool saturate);

    /// <summary>Sign-extended codes to F32, valid only for finite codes.</summary>
    static abstract Vector512<float> Finite(Vector512<int> codes);
    /// <summary>Sign-extended codes to F32 for every code, bit-identical to <see cref="Decode"/>.</summary>
    static abstract Vector512<float> Exact(Vector512<int> codes);
    /// <inheritdoc cref="Finite(Vector512{int})"/>
    static abstract Vector256<float> Finite(Vector256<int> codes);
    /// <inheritdoc cref="Exact(Vector512{int})"/>
    static abstract Vector256<float> Exact(Vector256<int> codes);
    /// <inheritdoc cref="Finite(Vector512{int})"/>
    static abstract Vector128<float> Finite(Vector128<int> codes);
    /// <inheritdoc cref="Exact(Vector512{int})"/>
    static abstract Vector128<float> Exact(Vector128<int> codes);
}
