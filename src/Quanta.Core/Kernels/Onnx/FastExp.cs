using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// e^x for float vectors (Cephes expf scheme): n = round(x·log₂e), r = x − n·ln 2 (ln 2 split in two), e^r by a
/// degree-6 polynomial, times 2ⁿ built in the exponent bits. Inputs are clamped to [−87.3, 88.7] (results from about
/// 1.2e-38 to 3.4e38; no denormals, no infinity), error within a few ulps. Same formula on every width and in
/// <see cref="Scalar"/>, so the paths of a kernel using it agree closely.
/// </summary>
internal static class FastExp
{
    private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
    private const float Lo = -87.3f, Hi = 88.7f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lo)), Vector512.Create(Hi));
        var n = Vector512.Floor(x * Vector512.Create(Log2E) + Vector512.Create(0.5f));
        var r = x - n * Vector512.Create(C1) - n * Vector512.Create(C2);
        var p = Vector512.Create(P0);
        p = p * r + Vector512.Create(P1);
        p = p * r + Vector512.Create(P2);
        p = p * r + Vector512.Create(P3);
        p = p * r + Vector512.Create(P4);
        p = p * r + Vector512.Create(P5);
        var e = p * r * r + r + Vector512<float>.One;
        var pow = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return e * pow;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var n = Vector256.Floor(x * Vector256.Create(Log2E) + Vector256.Create(0.5f));
        var r = x - n * Vector256.Create(C1) - n * Vector256.Create(C2);
        var p = Vector256.Create(P0);
        p = p * r + Vector256.Create(P1);
        p = p * r + Vector256.Create(P2);
        p = p * r + Vector256.Create(P3);
        p = p * r + Vector256.Create(P4);
        p = p * r + Vector256.Create(P5);
        var e = p * r * r + r + Vector256<float>.One;
        var pow = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return e * pow;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lo)), Vector128.Create(Hi));
        var n = Vector128.Floor(x * Vector128.Create(Log2E) + Vector128.Create(0.5f));
        var r = x - n * Vector128.Create(C1) - n * Vector128.Create(C2);
        var p = Vector128.Create(P0);
        p = p * r + Vector128.Create(P1);
        p = p * r + Vector128.Create(P2);
        p = p * r + Vector128.Create(P3);
        p = p * r + Vector128.Create(P4);
        p = p * r + Vector128.Create(P5);
        var e = p * r * r + r + Vector128<float>.One;
        var pow = Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        return e * pow;
    }

    // ExpFused: the same polynomial on r, evaluated with fused multiply-adds, and n found by the round-to-nearest "magic
    // number" addition (x·log₂e + 1.5·2²³ leaves round(x·log₂e) in the low mantissa bits), so no floor and no
    // float → int conversion: about 15 vector operations instead of about 25. Same clamp, same range, a few ulps.
    private const float Magic = 12582912f; // 1.5·2²³

    /// <summary>e^x as <see cref="Exp(Vector512{float})"/>, with fused multiply-adds (where the hardware has them) and a rounding trick; agrees with it to a few ulps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpFused(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lo)), Vector512.Create(Hi));
        var t = Vector512.MultiplyAddEstimate(x, Vector512.Create(Log2E), Vector512.Create(Magic));
        var n = t - Vector512.Create(Magic);
        var r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-C1), x);
        r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-C2), r);
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P2));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P3));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P4));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P5));
        var e = Vector512.MultiplyAddEstimate(p, r * r, r) + Vector512<float>.One;
        var pow = Vector512.ShiftLeft(t.AsInt32() - Vector512.Create(MagicBits - 127), 23).AsSingle();
        return e * pow;
    }

    /// <summary>e^x as <see cref="Exp(Vector256{float})"/>, fused (see <see cref="ExpFused(Vector512{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpFused(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var t = Vector256.MultiplyAddEstimate(x, Vector256.Create(Log2E), Vector256.Create(Magic));
        var n = t - Vector256.Create(Magic);
        var r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-C1), x);
        r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-C2), r);
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P2));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P3));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P4));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P5));
        var e = Vector256.MultiplyAddEstimate(p, r * r, r) + Vector256<float>.One;
        var pow = Vector256.ShiftLeft(t.AsInt32() - Vector256.Create(MagicBits - 127), 23).AsSingle();
        return e * pow;
    }

    /// <summary>e^x as <see cref="Exp(Vector128{float})"/>, fused (see <see cref="ExpFused(Vector512{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ExpFused(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lo)), Vector128.Create(Hi));
        var t = Vector128.MultiplyAddEstimate(x, Vector128.Create(Log2E), Vector128.Create(Magic));
        var n = t - Vector128.Create(Magic);
        var r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-C1), x);
        r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-C2), r);
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P4));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P5));
        var e = Vector128.MultiplyAddEstimate(p, r * r, r) + Vector128<float>.One;
        var pow = Vector128.ShiftLeft(t.AsInt32() - Vector128.Create(MagicBits - 127), 23).AsSingle();
        return e * pow;
    }

    /// <summary>The scalar form of <see cref="ExpFused(Vector512{float})"/> (fused where the hardware has FMA).</summary>
    public static float ScalarFused(float x)
    {
        x = Math.Min(Math.Max(x, Lo), Hi);
        float t = float.MultiplyAddEstimate(x, Log2E, Magic);
        float n = t - Magic;
        float r = float.MultiplyAddEstimate(n, -C1, x);
        r = float.MultiplyAddEstimate(n, -C2, r);
        float p = float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(float.MultiplyAddEstimate(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float e = float.MultiplyAddEstimate(p, r * r, r) + 1f;
        return e * BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(t) - (MagicBits - 127)) << 23);
    }

    private const int MagicBits = 0x4B400000; // bits of 1.5·2²³

    /// <summary>The same formula on one float.</summary>
    public static float Scalar(float x)
    {
        x = Math.Min(Math.Max(x, Lo), Hi);
        float n = MathF.Floor(x * Log2E + 0.5f);
        float r = x - n * C1 - n * C2;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        float e = p * r * r + r + 1f;
        return e * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }
}
