using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Quanta.Engine.Sampling;

/// <summary>
/// exp(x) for float vectors with x ≤ 0 (softmax weights relative to the maximum), Cephes <c>expf</c> scheme:
/// n = round(x·log2 e), r = x − n·ln 2 (two-part constant), exp(r) by a degree-7 polynomial, times 2ⁿ built in the
/// exponent bits. Relative error ≤ ~2e-7 for x in [−87, 0]; x &lt; −87 (including −∞) gives 0 (the true value is
/// below the float normal range). Cheaper than the runtime's Vector*.Exp, which evaluates in double.
/// The scalar reference is <see cref="MathF.Exp"/>.
/// </summary>
internal static class FastExp
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float Lowest = -87f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var valid = Vector512.GreaterThanOrEqual(x, Vector512.Create(Lowest));
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lowest)), Vector512<float>.Zero);
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = x - n * Vector512.Create(Ln2Hi) - n * Vector512.Create(Ln2Lo);
        var z = r * r;
        var p = Vector512.Create(P0);
        p = p * r + Vector512.Create(P1);
        p = p * r + Vector512.Create(P2);
        p = p * r + Vector512.Create(P3);
        p = p * r + Vector512.Create(P4);
        p = p * r + Vector512.Create(P5);
        p = p * z + r + Vector512<float>.One;
        var scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return Vector512.ConditionalSelect(valid, p * scale.AsSingle(), Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var valid = Vector256.GreaterThanOrEqual(x, Vector256.Create(Lowest));
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lowest)), Vector256<float>.Zero);
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = x - n * Vector256.Create(Ln2Hi) - n * Vector256.Create(Ln2Lo);
        var z = r * r;
        var p = Vector256.Create(P0);
        p = p * r + Vector256.Create(P1);
        p = p * r + Vector256.Create(P2);
        p = p * r + Vector256.Create(P3);
        p = p * r + Vector256.Create(P4);
        p = p * r + Vector256.Create(P5);
        p = p * z + r + Vector256<float>.One;
        var scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        return Vector256.ConditionalSelect(valid, p * scale.AsSingle(), Vector256<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var valid = Vector128.GreaterThanOrEqual(x, Vector128.Create(Lowest));
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lowest)), Vector128<float>.Zero);
        var n = Vector128.Round(x * Vector128.Create(Log2E));
        var r = x - n * Vector128.Create(Ln2Hi) - n * Vector128.Create(Ln2Lo);
        var z = r * r;
        var p = Vector128.Create(P0);
        p = p * r + Vector128.Create(P1);
        p = p * r + Vector128.Create(P2);
        p = p * r + Vector128.Create(P3);
        p = p * r + Vector128.Create(P4);
        p = p * r + Vector128.Create(P5);
        p = p * z + r + Vector128<float>.One;
        var scale = (Vector128.ConvertToInt32(n) + Vector128.Create(127)) << 23;
        return Vector128.ConditionalSelect(valid, p * scale.AsSingle(), Vector128<float>.Zero);
    }
}
