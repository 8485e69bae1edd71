namespace Quanta.Models.Graph.Operators;

/// <summary>ONNX Neg, elementwise.</summary>
internal sealed class Neg(GraphNode node) : UnaryOperator<Neg.Fn>(node)
{
    internal struct Fn : IUnaryFn
    {
        public static float F(float x) => -x;
        public static bool HasLong => true;
        public static long L(long x) => -x;
    }
}
