using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Add with broadcasting (equal shapes take a vector loop; the Add+Relu fusion sets activation "Relu").</summary>
internal sealed class Add(GraphNode node) : BinaryOperator<Add.Fn>(node)
{
    internal struct Fn : IBinaryFn
    {
        public static float F(float a, float b) => a + b;
        public static long L(long a, long b) => a + b;
    }

    /// <summary>y = a + b elementwise (then max(·, 0) when relu); spans of equal length (y may alias a or b).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Same(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, bool relu)
    {
        int n = y.Length, i = 0;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref ra, (nuint)i) + Vector256.LoadUnsafe(ref rb, (nuint)i);
                if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                v.StoreUnsafe(ref ry, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref ra, (nuint)i) + Vector128.LoadUnsafe(ref rb, (nuint)i);
                if (relu) v = Vector128.Max(v, Vector128<float>.Zero);
                v.StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = a[i] + b[i];
            y[i] = relu ? Math.Max(v, 0f) : v;
        }
    }
}
